import assert from "node:assert/strict";
import { test } from "node:test";
import { StopMatcher } from "../../src/engines/llama/textStream.js";

const feed = (m: StopMatcher, parts: string[]) => {
  let out = "";
  for (const p of parts) {
    const r = m.push(p);
    out += r.text;
    if (r.stopped) return { out, stopped: true };
  }
  return { out: out + m.flush(), stopped: false };
};

test("stop sequences split across chunks are caught and never leak", () => {
  assert.deepEqual(feed(new StopMatcher(["END"]), ["The E", "N", "D of it"]), { out: "The ", stopped: true });
  assert.deepEqual(feed(new StopMatcher(["\n\n", "Amen"]), ["so be it. Am", "en"]), { out: "so be it. ", stopped: true });
});

test("held-back text that does not become a stop sequence is released", () => {
  const m = new StopMatcher(["ENDING"]);
  assert.equal(m.push("we END").text, "we ");
  assert.equal(m.push("URE").text, "ENDUR"); // the final "E" could still start "ENDING"
  assert.equal(m.flush(), "E");
  assert.deepEqual(feed(new StopMatcher(["xyz"]), ["ab", "x"]), { out: "abx", stopped: false });
});

test("the earliest of several stop sequences wins; no stops passes text straight through", () => {
  assert.deepEqual(feed(new StopMatcher(["c", "ab"]), ["zabc"]), { out: "z", stopped: true });
  assert.deepEqual(feed(new StopMatcher([]), ["a", "b"]), { out: "ab", stopped: false });
});

test("token-by-token detokenization equals detokenizing the whole text, multi-byte characters included", async () => {
  const { IncrementalDetokenizer } = await import("../../src/engines/llama/textStream.js");
  const { testLlama } = await import("../helpers/llama.js");
  const { scratchDir } = await import("../helpers/paths.js");
  const { writeTinyModel } = await import("../helpers/syntheticModel.js");
  const model = await (await testLlama()).loadModel({ modelPath: await writeTinyModel(scratchDir()) });
  try {
    for (const text of ["In the beginning God created the heaven and the earth.", "café — naïve 😀 and  two  spaces\nnew line", "  leading spaces, Ω≈ç√∫"]) {
      const tokens = model.tokenize(text);
      assert.ok(tokens.length > 5);
      const d = new IncrementalDetokenizer(model);
      const streamed = tokens.map((t) => d.push(t)).join("");
      assert.equal(streamed, model.detokenize(tokens), text);
    }
  } finally {
    await model.dispose();
  }
});
