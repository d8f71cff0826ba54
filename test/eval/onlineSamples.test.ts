/** Online samples in eval.db: a series' baseline (its first window) and current agreement (its latest), and their retention. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { durationMs } from "../../src/config/duration.js";
import { Config } from "../../src/config/schema.js";
import { OnlineSamples, type OnlineSample } from "../../src/eval/onlineSamples.js";
import { scratchDir } from "../helpers/paths.js";

const sample = (at: number, agreement: number, route = "r"): OnlineSample => ({
  at,
  model: "m",
  route,
  kind: "text",
  agreement,
  reference: "cloud",
  localMs: 10,
  referenceMs: 500,
  promptTokens: 5,
  completionTokens: 5,
});

test("a series has a baseline once it holds a window of samples; the latest window is its current agreement", () => {
  const samples = new OnlineSamples(join(scratchDir(), "eval.db"));
  try {
    for (const a of [1, 1]) samples.record(sample(0, a));
    samples.record(sample(0, 0.5, "other"));
    assert.deepEqual(samples.agreementOf({ model: "m", route: "r", kind: "text" }, 3), { model: "m", route: "r", kind: "text", current: 1 });
    for (const a of [1, 0, 0, 0]) samples.record(sample(0, a));
    assert.deepEqual(samples.agreementOf({ model: "m", route: "r", kind: "text" }, 3), { model: "m", route: "r", kind: "text", baseline: 1, current: 0 });
    assert.deepEqual(
      samples.agreement(3).map((s) => [s.route, s.baseline, s.current]),
      [
        ["other", undefined, 0.5],
        ["r", 1, 0],
      ],
    );
  } finally {
    samples.close();
  }
});

test("samples older than eval.online.retention (30 days by default) are purged", () => {
  const retentionMs = durationMs(Config.parse({}).eval.online.retention);
  assert.equal(retentionMs, 30 * 24 * 3_600_000);
  const samples = new OnlineSamples(join(scratchDir(), "eval.db"));
  try {
    const now = Date.now();
    samples.record(sample(now - retentionMs - 1, 1));
    samples.record(sample(now - 1000, 0.5));
    assert.equal(samples.purge(retentionMs, now), 1);
    assert.deepEqual(samples.all().map((s) => s.agreement), [0.5]);
  } finally {
    samples.close();
  }
});
