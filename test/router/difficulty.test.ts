import assert from "node:assert/strict";
import { test } from "node:test";
import { DifficultyEstimator, type DifficultyExample } from "../../src/router/difficulty.js";

const ask = (content: string) => [{ role: "user", content }];

const HARD =
  "Prove that every bounded monotone sequence converges, then compare that proof with one using the Bolzano-Weierstrass theorem. " +
  "Next, design a step by step lesson plan that explains why completeness matters, and analyse the trade-offs between the two approaches. " +
  "The plan must have exactly five sessions, each with at least two exercises. Which approach would you choose, and why?";

/** Letter counts: texts made of the same letters are similar, so tests choose what is near what. */
function bagOfLetters(text: string): Float32Array {
  const v = new Float32Array(26);
  for (const ch of text.toLowerCase()) {
    const i = ch.charCodeAt(0) - 97;
    if (i >= 0 && i < 26) v[i]! += 1;
  }
  return v;
}

function fakeEmbed() {
  const calls: string[][] = [];
  const embed = async (texts: string[]) => {
    calls.push(texts);
    return texts.map(bagOfLetters);
  };
  return { calls, embed };
}

const EXAMPLES: DifficultyExample[] = [
  { text: "aaa bab aab", label: "simple" },
  { text: "abba baba", label: "simple" },
  { text: "bbb aaa", label: "simple" },
  { text: "xyz zzx yyx", label: "complex" },
  { text: "zyx xxz", label: "complex" },
  { text: "zzz yyy xxx", label: "complex" },
];

test("features count what the user asked, and only that", () => {
  const estimator = new DifficultyEstimator({ examples: [] });
  const messages = [
    { role: "system", content: "You are a careful assistant. Explain why, prove, derive, compare: must, exactly. ```x```" },
    { role: "user", content: "Why does `map` differ from `forEach`??\n```js\n[1, 2].map((x) => x * 2);\n```\nExplain step by step." },
    { role: "assistant", content: "Because… why not?" },
    { role: "user", content: "List three ways to compute $\\sum_{i=1}^n i$; it must use at least one integral.\n1. first\n2. second" },
  ];
  assert.deepEqual(estimator.features(messages), {
    chars: messages[1]!.content.length + 1 + messages[3]!.content.length,
    words: 36,
    userTurns: 2,
    questions: 1,
    codeBlocks: 1,
    inlineCode: 2,
    math: 2,
    listRequests: 4,
    reasoning: 3,
    constraints: 2,
  });
  const withoutOthers = messages.filter((m) => m.role === "user");
  assert.equal(estimator.featuresOnly(messages), estimator.featuresOnly(withoutOthers), "system and assistant turns do not count");
});

test("a long multi-step prove / compare / design request scores above a greeting and a plain question", () => {
  const estimator = new DifficultyEstimator({ examples: [] });
  const hi = estimator.featuresOnly(ask("hi"));
  const fact = estimator.featuresOnly(ask("What is the capital of France?"));
  const hard = estimator.featuresOnly(ask(HARD));
  for (const score of [hi, fact, hard]) assert.ok(score > 0 && score < 1, String(score));
  assert.ok(hi < fact && fact < hard, `${hi} < ${fact} < ${hard}`);
  assert.ok(hi < 0.2, `a greeting is simple: ${hi}`);
  assert.ok(hard > 0.8, `the hard request is complex: ${hard}`);
  const snippet = "Fix this:\n```\nconst x: number = '1';\n```";
  assert.ok(estimator.featuresOnly(ask(snippet)) > estimator.featuresOnly(ask(snippet.replaceAll("```", "---"))), "a code block adds to the score");
});

test("without examples or an embedder the estimate is the feature score", async () => {
  const { calls, embed } = fakeEmbed();
  for (const estimator of [new DifficultyEstimator({ examples: [] }), new DifficultyEstimator({ examples: [], embed }), new DifficultyEstimator({ examples: EXAMPLES })]) {
    const featureScore = estimator.featuresOnly(ask(HARD));
    assert.deepEqual(await estimator.estimate(ask(HARD)), { score: featureScore, featureScore });
  }
  assert.equal(calls.length, 0);
});

test("the nearest labelled examples steer the score", async () => {
  const { embed } = fakeEmbed();
  const estimator = new DifficultyEstimator({ examples: EXAMPLES, embed, k: 3 });
  // the same shape of request (same features), in letters near the simple or the complex examples
  const nearSimple = await estimator.estimate(ask("aab bba"));
  const nearComplex = await estimator.estimate(ask("xyz zxy"));
  assert.equal(nearSimple.featureScore, nearComplex.featureScore);
  assert.deepEqual(
    nearSimple.nearest!.map((n) => n.label),
    ["simple", "simple", "simple"],
  );
  assert.deepEqual(
    nearComplex.nearest!.map((n) => n.label),
    ["complex", "complex", "complex"],
  );
  assert.equal(nearSimple.exampleScore, 0);
  assert.equal(nearComplex.exampleScore, 1);
  assert.equal(nearSimple.score, nearSimple.featureScore / 2);
  assert.equal(nearComplex.score, (nearComplex.featureScore + 1) / 2);
  const similarities = nearComplex.nearest!.map((n) => n.similarity);
  assert.deepEqual(similarities, [...similarities].sort((a, b) => b - a), "nearest first");

  // a request between the two is a similarity-weighted mix
  const mixed = await estimator.estimate(ask("aaa xxx"));
  assert.ok(mixed.exampleScore! > 0 && mixed.exampleScore! < 1, String(mixed.exampleScore));
  const weights = mixed.nearest!.map((n) => n.similarity);
  const complexShare = mixed.nearest!.reduce((sum, n) => sum + (n.label === "complex" ? n.similarity : 0), 0) / weights.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(mixed.exampleScore! - complexShare) < 1e-12);
});

test("a request like none of the examples gets no example opinion", async () => {
  const { embed } = fakeEmbed();
  const estimator = new DifficultyEstimator({ examples: EXAMPLES, embed });
  const r = await estimator.estimate(ask("qqq mmm")); // no letter in common: similarity 0
  assert.equal(r.exampleScore, undefined);
  assert.equal(r.score, r.featureScore);
  assert.equal(r.nearest!.length, 5, "k defaults to 5");
});

test("the examples are embedded once, lazily, even by concurrent estimates", async () => {
  const { calls, embed } = fakeEmbed();
  const estimator = new DifficultyEstimator({ examples: EXAMPLES, embed });
  assert.equal(calls.length, 0, "nothing is embedded before the first estimate");
  await Promise.all([estimator.estimate(ask("aab")), estimator.estimate(ask("xyz"))]);
  await estimator.estimate(ask("zzy"));
  const exampleTexts = EXAMPLES.map((e) => e.text);
  assert.equal(calls.filter((texts) => texts.length === exampleTexts.length && texts.every((t, i) => t === exampleTexts[i])).length, 1);
  assert.deepEqual(
    calls.filter((texts) => texts.length === 1),
    [["aab"], ["xyz"], ["zzy"]],
  );
});

test("a failing embedder rejects the estimate, and the next estimate tries the examples again", async () => {
  let fail = true;
  let exampleCalls = 0;
  const embed = async (texts: string[]) => {
    if (texts.length > 1) exampleCalls++;
    if (fail) throw new Error("embedder offline");
    return texts.map(bagOfLetters);
  };
  const estimator = new DifficultyEstimator({ examples: EXAMPLES, embed });
  await assert.rejects(estimator.estimate(ask("xyz")), /embedder offline/);
  fail = false;
  const r = await estimator.estimate(ask("xyz"));
  assert.equal(r.exampleScore, 1);
  assert.equal(exampleCalls, 2);
});
