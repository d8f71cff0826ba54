/** Proposals from online samples: the fewest escalations at which the requests kept on the device agree often enough. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { agreementOf, kindOf } from "../../src/eval/agreement.js";
import type { OnlineSample } from "../../src/eval/onlineSamples.js";
import { tuneRouter } from "../../src/eval/tuneRouter.js";
import { RouterConfig } from "../../src/router/schemas.js";

const sample = (difficulty: number, agreement: number, confidence?: number): OnlineSample => ({
  at: 0,
  model: "m",
  route: "r",
  kind: "text",
  agreement,
  reference: "cloud",
  difficulty,
  confidence,
  localMs: 10,
  referenceMs: 500,
  promptTokens: 5,
  completionTokens: 5,
});

test("the difficulty threshold that keeps agreement at the target with the fewest escalations, and what it does", () => {
  // the two hardest requests disagree
  const samples = [sample(0.1, 0.95), sample(0.2, 0.9), sample(0.3, 0.92), sample(0.6, 0.2), sample(0.7, 0.1)];
  const router = RouterConfig.parse({ routes: [{ model: "r", cloud: ["cloud"], difficultyThreshold: 0.75 }] });
  const [t] = tuneRouter(samples, router, { agreeAt: 0.8, target: 0.9 });
  assert.equal(t!.setting, "difficultyThreshold");
  assert.deepEqual(t!.current, { value: 0.75, escalated: 0, kept: 5, keptAgreement: 0.6, meanMs: 10 });
  assert.deepEqual(t!.proposed, { value: 0.6, escalated: 2, kept: 3, keptAgreement: 1, meanMs: (3 * 10 + 2 * 500) / 5 });
});

test("a cascade cut-off is judged at or above the current one; no proposal when nothing reaches the target", () => {
  const samples = [sample(0.1, 0.9, -0.5), sample(0.1, 0.3, -1.5), sample(0.1, 0.9, -3)];
  const router = RouterConfig.parse({ routes: [{ model: "r", cloud: ["cloud"], cascade: { minMeanLogprob: -2 } }] });
  const cascade = tuneRouter(samples, router, { agreeAt: 0.8, target: 0.9 }).find((t) => t.setting === "cascade.minMeanLogprob")!;
  assert.equal(cascade.samples, 2, "the sample below the current cut-off was escalated, not kept: it says nothing here");
  assert.equal(cascade.proposed!.escalated, 1);
  assert.ok(cascade.proposed!.value > -1.5 && cascade.proposed!.value < -0.5);
  const strict = tuneRouter(samples, router, { agreeAt: 0.95, target: 0.9 }).find((t) => t.setting === "cascade.minMeanLogprob")!;
  assert.equal(strict.proposed, undefined);
});

test("agreement: tool calls and JSON values compare as values, texts by their embeddings", async () => {
  const embed = async (texts: string[]) => texts.map((t) => (t.includes("light") ? [1, 0] : [0.6, 0.8]));
  const a = { text: "", toolCalls: [{ name: "f", arguments: '{"a": 1, "b": [2]}' }] };
  const b = { text: "", toolCalls: [{ name: "f", arguments: '{"b":[2],"a":1}' }] };
  assert.equal(kindOf(a, b, false), "tool_calls");
  assert.equal(await agreementOf(a, b, "tool_calls", embed), 1);
  assert.equal(await agreementOf(a, { text: "", toolCalls: [{ name: "g", arguments: "{}" }] }, "tool_calls", embed), 0);
  assert.equal(await agreementOf({ text: '{"x": 1}' }, { text: '{ "x" : 1 }' }, "json", embed), 1);
  assert.equal(await agreementOf({ text: '{"x": 1}' }, { text: "not json" }, "json", embed), 0);
  assert.equal(await agreementOf({ text: "let there be light" }, { text: "and there was" }, "text", embed), 0.6);
});
