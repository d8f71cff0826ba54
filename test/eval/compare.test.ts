import assert from "node:assert/strict";
import { test } from "node:test";
import { compare, metricsOf } from "../../src/eval/compare.js";
import type { StoredCheck } from "../../src/eval/store.js";

const checks = (type: StoredCheck["type"], values: number[], passes = values.map((v) => v >= 0.5)): StoredCheck[] =>
  values.map((value, i) => ({ caseId: `c${i}`, index: 0, type, pass: passes[i]!, value }));

test("metrics: the mean value per check type, and the pass rate of every check as 'all'", () => {
  const m = metricsOf([...checks("contains", [1, 0, 1, 1]), ...checks("similarity", [0.9, 0.2]).map((c) => ({ ...c, index: 1 }))]);
  assert.deepEqual(m.find((x) => x.name === "contains"), { name: "contains", checks: 4, passRate: 0.75, mean: 0.75 });
  assert.equal(m.find((x) => x.name === "similarity")!.mean.toFixed(2), "0.55");
  assert.equal(m.find((x) => x.name === "all")!.passRate, 4 / 6);
});

test("a drop past the threshold regresses; within it, or a rise, does not; pairs are matched by case and check", () => {
  const base = checks("contains", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  const worse = checks("contains", [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  const [all, contains] = compare(worse, base, 0.05);
  assert.equal(contains!.name, "contains");
  assert.equal(contains!.delta.toFixed(2), "-0.20");
  assert.ok(contains!.regressed && all!.regressed);
  assert.ok(contains!.ci[0] < contains!.delta && contains!.delta < contains!.ci[1]);
  assert.ok(!compare(worse, base, 0.25)[1]!.regressed);
  assert.ok(!compare(base, worse, 0.05)[1]!.regressed, "better is not a regression");
  // a case only one run has is not paired
  assert.equal(compare([...worse, { caseId: "new", index: 0, type: "contains", pass: false, value: 0 }], base, 0.05)[1]!.paired, 10);
});

test("the likelihood compares as a ratio: 6 % less likely is a regression at 0.05 whatever its scale", () => {
  const base = checks("loglik", [0.03, 0.04, 0.05], [true, true, true]);
  const worse = checks("loglik", [0.03 * 0.94, 0.04 * 0.94, 0.05 * 0.94], [true, true, true]);
  const d = compare(worse, base, 0.05).find((x) => x.name === "loglik")!;
  assert.equal(d.delta.toFixed(3), "-0.060");
  assert.ok(d.regressed);
  assert.ok(!compare(base, base, 0.05).find((x) => x.name === "loglik")!.regressed);
});
