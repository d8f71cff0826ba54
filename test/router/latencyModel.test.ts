import assert from "node:assert/strict";
import { test } from "node:test";
import { LatencyModel } from "../../src/router/latencyModel.js";

const prior = { fixedMs: 2, perPromptTokenMs: 0.5, perOutputTokenMs: 3 };

test("predictions start from the prior, take the first measurement as it is, then follow a moving average", () => {
  const model = new LatencyModel(() => prior);
  assert.deepEqual(model.predict("m@cpu", { promptTokens: 10, outputTokens: 20, waitMs: 7 }), { ms: 7 + 2 + 5 + 60, waitMs: 7, promptMs: 7, outputMs: 60 });
  assert.equal(model.observations("m@cpu"), 0);
  model.observe("m@cpu", { promptTokens: 100, promptMs: 10, outputTokens: 11, outputMs: 10 });
  assert.equal(model.observations("m@cpu"), 1);
  assert.equal(model.predict("m@cpu", { promptTokens: 100, outputTokens: 10 }).ms, 2 + 10 + 10);
  for (let i = 0; i < 50; i++) model.observe("m@cpu", { promptTokens: 100, promptMs: 20, outputTokens: 11, outputMs: 30 });
  const settled = model.predict("m@cpu", { promptTokens: 100, outputTokens: 10 });
  assert.ok(Math.abs(settled.promptMs - 22) < 0.01 && Math.abs(settled.outputMs - 30) < 0.01, JSON.stringify(settled));
  assert.equal(model.predict("other@gpu", { promptTokens: 10, outputTokens: 20 }).ms, 67, "keys are independent");
});

test("a cloud provider's fixed cost (time to first byte) is measured too; phases too short to time are skipped", () => {
  const model = new LatencyModel(() => ({ fixedMs: 400, perPromptTokenMs: 0, perOutputTokenMs: 12.5 }));
  model.observe("cloud:a", { fixedMs: 40, promptTokens: 0, promptMs: 0, outputTokens: 1, outputMs: 0 });
  assert.deepEqual(model.predict("cloud:a", { promptTokens: 50, outputTokens: 8 }), { ms: 40 + 100, waitMs: 0, promptMs: 40, outputMs: 100 });
});
