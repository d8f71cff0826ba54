import assert from "node:assert/strict";
import { test } from "node:test";
import { QueueFullError } from "../../src/scheduler/errors.js";
import { SlotScheduler } from "../../src/scheduler/slotScheduler.js";

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

test("runs up to `slots` at once, queues up to `maxWaiting`, refuses the rest", async () => {
  const s = new SlotScheduler({ slots: 2, maxWaiting: 1 });
  const g = gate();
  const running = [s.run(() => g.opened.then(() => 1)), s.run(() => g.opened.then(() => 2)), s.run(() => g.opened.then(() => 3))];
  assert.equal(s.busy, 2);
  assert.equal(s.waiting, 1);
  await assert.rejects(s.run(async () => 4), (e: QueueFullError) => e instanceof QueueFullError && e.retryAfterMs >= 1000);
  g.open();
  assert.deepEqual(await Promise.all(running), [1, 2, 3]);
  assert.equal(s.busy + s.waiting, 0);
});

test("a waiting request whose signal aborts leaves the queue with the signal's reason", async () => {
  const s = new SlotScheduler({ slots: 1, maxWaiting: 5 });
  const g = gate();
  const first = s.run(() => g.opened);
  const controller = new AbortController();
  const second = s.run(async () => "never", { signal: controller.signal });
  controller.abort(new Error("deadline"));
  await assert.rejects(second, /deadline/);
  assert.equal(s.waiting, 0);
  g.open();
  await first;
});

test("the predicted wait grows with the queue and the observed service time", async () => {
  let now = 0;
  const s = new SlotScheduler({ slots: 1, maxWaiting: 10, now: () => now });
  await s.run(async () => void (now += 100));
  assert.equal(s.predictedWaitMs(), 0);
  const g = gate();
  const busy = s.run(() => g.opened);
  const queued = s.run(async () => undefined);
  assert.equal(s.predictedWaitMs(), 200); // one waiting + this one, 100 ms each
  g.open();
  await Promise.all([busy, queued]);
});

test("waiting requests start by priority class: interactive, then background, then batch", async () => {
  const s = new SlotScheduler({ slots: 1, maxWaiting: 10 });
  const g = gate();
  const order: string[] = [];
  const first = s.run(() => g.opened);
  const queued = (["batch", "background", "interactive", "batch", "interactive"] as const).map((p, i) => s.run(async () => void order.push(`${p}${i}`), { priority: p }));
  g.open();
  await Promise.all([first, ...queued]);
  assert.deepEqual(order, ["interactive2", "interactive4", "background1", "batch0", "batch3"]);
});

test("a deadline the predicted start misses is refused at once; one it meets is admitted", async () => {
  let now = 0;
  const s = new SlotScheduler({ slots: 1, maxWaiting: 10, now: () => now });
  await s.run(async () => void (now += 100)); // observed: 100 ms per request
  const g = gate();
  const busy = s.run(() => g.opened);
  const background = s.run(async () => undefined, { priority: "background" });
  // an interactive request waits only for the running one (100 ms); a batch one also for the background one (200 ms)
  await assert.rejects(s.run(async () => "late", { deadlineMs: 90 }), (e: QueueFullError) => e.code === "deadline_unreachable" && e.retryAfterMs === 100);
  await assert.rejects(s.run(async () => "late", { priority: "batch", deadlineMs: 150 }), (e: QueueFullError) => e.code === "deadline_unreachable" && e.retryAfterMs === 200);
  const ok = s.run(async () => "in time", { deadlineMs: 150 });
  g.open();
  assert.equal(await ok, "in time");
  await Promise.all([busy, background]);
});

test("reserved slots: background and batch work never takes the last slot, interactive work can", async () => {
  const s = new SlotScheduler({ slots: 2, maxWaiting: 10, reservedForInteractive: 1 });
  const g = gate();
  const batch = [s.run(() => g.opened, { priority: "batch" }), s.run(() => g.opened, { priority: "batch" })];
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(s.busy, 1, "the second batch request waits although a slot is free");
  assert.equal(s.waiting, 1);
  let started = false;
  const interactive = s.run(async () => void (started = true));
  await interactive;
  assert.ok(started, "the interactive request took the reserved slot at once");
  g.open();
  await Promise.all(batch);
});

test("a running request whose signal aborts keeps its slot until it returns", async () => {
  const s = new SlotScheduler({ slots: 1, maxWaiting: 5 });
  const controller = new AbortController();
  const g = gate();
  const running = s.run(() => g.opened, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 5));
  controller.abort(new Error("client gone"));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(s.busy, 1, "the slot stays taken while the task still holds what it uses");
  g.open();
  await running;
  assert.equal(s.busy, 0);
});
