import assert from "node:assert/strict";
import { test } from "node:test";
import { escalate, preferLocal, type CloudFacts, type LocalFacts } from "../../src/router/policy.js";

const localFacts = (over: Partial<LocalFacts> = {}): LocalFacts => ({
  privacy: "default",
  budgetMs: 50,
  hasCloud: true,
  fits: true,
  predictedMs: 20,
  route: { difficultyThreshold: 0.75 },
  ...over,
});

const cloudFacts = (over: Partial<CloudFacts> = {}): CloudFacts => ({
  escalate: { escalate: "over_budget_locally", detail: "local predicted 90 ms > budget 50 ms" },
  localFits: true,
  localPredictedMs: 90,
  budgetMs: 50,
  allowDefer: false,
  online: true,
  available: [
    { id: "a", predictedMs: 40, measured: true },
    { id: "b", predictedMs: 45, measured: false },
  ],
  guardAllows: true,
  budget: { ok: true },
  route: { overBudget: "local", fallbackToLocal: true },
  ...over,
});

test("the device answers within the budget; over it, too long for its context or too hard, the request escalates", () => {
  assert.deepEqual(preferLocal(localFacts()), { route: "local", reason: "within_budget", detail: "local predicted 20 ms <= budget 50 ms", predictedMs: 20, targets: [], fallbackToLocal: false });
  assert.deepEqual(preferLocal(localFacts({ predictedMs: 51 })), { escalate: "over_budget_locally", detail: "local predicted 51 ms > budget 50 ms" });
  assert.equal((preferLocal(localFacts({ fits: false })) as { escalate: string }).escalate, "exceeds_local_context");
  assert.equal((preferLocal(localFacts({ difficulty: 0.8 })) as { escalate: string }).escalate, "complex_prompt");
  assert.equal((preferLocal(localFacts({ difficulty: 0.7 })) as { route: string }).route, "local");
});

test("local_only, a local-only feature and a route without cloud targets stay on the device whatever the budget", () => {
  for (const [over, reason] of [
    [{ privacy: "local_only" as const, predictedMs: 900, difficulty: 1 }, "local_only"],
    [{ localOnly: "response_format", predictedMs: 900 }, "local_required"],
    [{ hasCloud: false, predictedMs: 900, fits: false }, "no_cloud_route"],
  ] as const) {
    const d = preferLocal(localFacts(over));
    assert.ok("route" in d);
    assert.equal(d.route, "local");
    assert.equal(d.reason, reason);
  }
});

test("escalation goes to the available targets in order, with the device as the fallback when it can answer", () => {
  const d = escalate(cloudFacts());
  assert.equal(d.route, "cloud");
  assert.deepEqual(d.targets, ["a", "b"]);
  assert.equal(d.predictedMs, 40);
  assert.equal(d.fallbackToLocal, true);
  assert.equal(escalate(cloudFacts({ localFits: false })).fallbackToLocal, false);
  assert.equal(escalate(cloudFacts({ route: { overBudget: "local", fallbackToLocal: false } })).fallbackToLocal, false);
});

test("a measured cloud slower than the device keeps an over-budget request local; an unmeasured one does not", () => {
  const slow = [{ id: "a", predictedMs: 300, measured: true }];
  assert.equal(escalate(cloudFacts({ available: slow })).reason, "cloud_no_faster");
  assert.equal(escalate(cloudFacts({ available: [{ ...slow[0]!, measured: false }] })).route, "cloud");
  assert.equal(escalate(cloudFacts({ available: slow, escalate: { escalate: "complex_prompt", detail: "" } })).route, "cloud", "difficulty escalates whatever the speed");
});

test("sensitive content under DENY, an exhausted token budget and an unreachable cloud: device, queue or refusal", () => {
  assert.equal(escalate(cloudFacts({ guardAllows: false })).reason, "sensitive_kept_local");
  assert.deepEqual(escalate(cloudFacts({ guardAllows: false, localFits: false })).reject?.status, 403);
  const over = { ok: false as const, window: "hour" as const, limit: 1000 };
  assert.equal(escalate(cloudFacts({ budget: over })).reason, "cloud_budget_exhausted");
  const refused = escalate(cloudFacts({ budget: over, route: { overBudget: "reject", fallbackToLocal: true } }));
  assert.equal(refused.route, "reject");
  assert.equal(refused.reject?.status, 429);
  assert.match(refused.reject!.message, /hourly cloud token budget of 1000/);
  assert.equal(escalate(cloudFacts({ online: false, allowDefer: true })).route, "queue");
  assert.equal(escalate(cloudFacts({ online: false })).reason, "cloud_unreachable");
  assert.equal(escalate(cloudFacts({ available: [], allowDefer: true })).route, "queue", "every breaker open counts as unreachable");
  assert.equal(escalate(cloudFacts({ online: false, localFits: false })).reject?.status, 503);
});

test("offload when busy: a long request leaves a busy device only for a measured cloud that makes its budget", () => {
  const long = localFacts({ predictedMs: 120, budgetMs: 500, busy: true, offloadLongerThanMs: 50 });
  const wants = preferLocal(long);
  assert.deepEqual(wants, { escalate: "offload_busy_device", detail: "local predicted 120 ms > 50 ms on a busy device" });
  assert.equal((preferLocal({ ...long, busy: false }) as { route: string }).route, "local", "an idle device keeps it");
  assert.equal((preferLocal({ ...long, offloadLongerThanMs: undefined }) as { route: string }).route, "local", "off by default");
  assert.equal((preferLocal({ ...long, predictedMs: 40 }) as { route: string }).route, "local", "short requests stay");
  const facts = cloudFacts({ escalate: wants as { escalate: string; detail: string }, budgetMs: 500, localPredictedMs: 120 });
  assert.equal(escalate(facts).route, "cloud");
  const slow = escalate({ ...facts, available: [{ id: "a", predictedMs: 700, measured: true }] });
  assert.deepEqual([slow.route, slow.reason], ["local", "within_budget"]);
  assert.match(slow.detail, /a predicted 700 ms, over the budget/);
  assert.equal(escalate({ ...facts, available: [{ id: "a", predictedMs: 40, measured: false }] }).route, "local", "an unmeasured cloud is not trusted with it");
});
