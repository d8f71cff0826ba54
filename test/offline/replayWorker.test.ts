import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { openDatabase } from "../../src/db/open.js";
import { ConnectivityWatcher } from "../../src/offline/connectivity.js";
import type { ClaimedJob } from "../../src/offline/job.js";
import { JobStore } from "../../src/offline/jobStore.js";
import { OFFLINE_MIGRATIONS } from "../../src/offline/migrations.js";
import { ReplayWorker, type ReplayWorkerOptions } from "../../src/offline/replayWorker.js";
import { scratchDir } from "../helpers/paths.js";
import { FakeClock, settle } from "./fakeClock.js";

const dir = scratchDir("edged-offline-");
let n = 0;

/** A worker on a fresh queue and a fake clock, sending with `send`; the cloud's reachability is `cloud.up`. */
function setup(options: Pick<ReplayWorkerOptions, "send"> & Partial<Pick<ReplayWorkerOptions, "classify" | "concurrency" | "holdMs" | "onDone" | "onStorage">> & { online?: boolean }) {
  const clock = new FakeClock();
  const db = openDatabase(join(dir, `queue-${n++}.db`), OFFLINE_MIGRATIONS);
  const store = new JobStore(db, { now: clock.now });
  const cloud = { up: options.online ?? true };
  const connectivity = new ConnectivityWatcher({ probe: async () => cloud.up, probeIntervalMs: 1000, online: options.online ?? true, timers: clock });
  const worker = new ReplayWorker({
    store,
    connectivity,
    send: options.send,
    classify: options.classify ?? (() => "retryable"),
    concurrency: options.concurrency ?? 2,
    holdMs: options.holdMs,
    onDone: options.onDone,
    onStorage: options.onStorage,
    backoff: { baseMs: 1000, maxMs: 8000 },
    random: () => 0.5,
    timers: clock,
  });
  const enqueue = (request: unknown, maxAttempts = 5, ttlMs = 3_600_000) => store.enqueue({ request, ttlMs, maxAttempts }).job.id;
  return { clock, db, store, cloud, connectivity, worker, enqueue };
}

const doneEvents = (store: JobStore, id: string) => store.events(id).filter((e) => e.event === "done").length;

test("once the cloud is back every queued job is sent once, at most `concurrency` at a time, with one result each", async () => {
  const sent: string[] = [];
  let inFlight = 0;
  let most = 0;
  const { clock, store, cloud, worker, enqueue } = setup({
    online: false,
    send: async (job) => {
      most = Math.max(most, ++inFlight);
      await settle();
      inFlight--;
      sent.push(job.id);
      return { echo: job.request };
    },
  });
  const ids = Array.from({ length: 10 }, (_, i) => enqueue({ n: i }));
  worker.start();
  await worker.drain();
  assert.deepEqual(sent, []);
  cloud.up = true;
  clock.advance(1000);
  await settle();
  await worker.drain();
  assert.deepEqual([...sent].sort(), [...ids].sort());
  assert.equal(most, 2);
  assert.deepEqual(store.counts(), { queued: 0, running: 0, done: 10, dead: 0, expired: 0 });
  ids.forEach((id, i) => {
    assert.deepEqual(store.get(id)!.result, { echo: { n: i } });
    assert.equal(doneEvents(store, id), 1);
  });
  await worker.stop();
});

test("a retryable failure is retried after full-jitter backoff, or after the delay the cloud asked for", async () => {
  const failures: Error[] = [new Error("upstream 503"), new Error("upstream 502"), Object.assign(new Error("429 slow down"), { retryAfterMs: 7000 })];
  let calls = 0;
  const { clock, store, worker, enqueue } = setup({
    send: async () => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      return "answered";
    },
  });
  const id = enqueue({ q: "x" });
  worker.start();
  await worker.drain();
  const delayAfter = () => store.get(id)!.nextAttemptAt - clock.now();
  assert.equal(delayAfter(), 500); // random 0.5 x base 1000
  assert.equal(store.get(id)!.error, "upstream 503");
  clock.advance(499);
  assert.equal(calls, 1);
  clock.advance(1);
  assert.equal(calls, 2); // the worker's own timer woke it
  await worker.drain();
  assert.equal(delayAfter(), 1000); // 0.5 x 2000
  clock.advance(1000);
  await worker.drain();
  assert.equal(delayAfter(), 7000);
  clock.advance(7000);
  await worker.drain();
  const job = store.get(id)!;
  assert.deepEqual([job.status, job.attempts, job.result, calls], ["done", 4, "answered", 4]);
  assert.deepEqual(
    store.events(id).map((e) => e.event),
    ["enqueued", "claimed", "retry", "claimed", "retry", "claimed", "retry", "claimed", "done"],
  );
  await worker.stop();
});

test("a permanent failure is dead-lettered at once; a retryable one after its last attempt", async () => {
  const calls = new Map<string, number>();
  const { clock, store, worker, enqueue } = setup({
    send: async (job) => {
      calls.set(job.id, (calls.get(job.id) ?? 0) + 1);
      throw new Error((job.request as { kind: string }).kind === "bad" ? "400 unknown model" : "upstream 503");
    },
    classify: (e) => ((e as Error).message.startsWith("400") ? "permanent" : "retryable"),
  });
  const bad = enqueue({ kind: "bad" }, 3);
  const flaky = enqueue({ kind: "flaky" }, 3);
  worker.start();
  await worker.drain();
  for (let i = 0; i < 10 && store.get(flaky)!.status === "queued"; i++) {
    clock.advance(store.nextDueAt()! - clock.now());
    await worker.drain();
  }
  assert.deepEqual([store.get(bad)!.status, store.get(bad)!.reason, store.get(bad)!.error, calls.get(bad)], ["dead", "not retryable", "400 unknown model", 1]);
  assert.deepEqual([store.get(flaky)!.status, store.get(flaky)!.reason, calls.get(flaky)], ["dead", "gave up after 3 attempts", 3]);
  await worker.stop();
});

test("a connection failure takes the worker offline: nothing is sent until a probe finds the cloud again", async () => {
  let calls = 0;
  const { clock, store, cloud, connectivity, worker, enqueue } = setup({
    concurrency: 1,
    send: async (job) => {
      calls++;
      if (!cloud.up) throw new TypeError("fetch failed");
      return job.id;
    },
    classify: (e) => (e instanceof TypeError ? "connection" : "retryable"),
  });
  cloud.up = false;
  const ids = [enqueue(1), enqueue(2), enqueue(3)];
  worker.start();
  await worker.drain();
  assert.deepEqual([calls, connectivity.online], [1, false]);
  for (let i = 0; i < 30; i++) {
    clock.advance(1000);
    await settle();
  }
  assert.equal(calls, 1);
  cloud.up = true;
  clock.advance(1000);
  await settle();
  await worker.drain();
  assert.equal(connectivity.online, true);
  assert.equal(calls, 4);
  assert.deepEqual(
    ids.map((id) => [store.get(id)!.status, store.get(id)!.attempts, store.get(id)!.result]),
    [
      ["done", 2, ids[0]],
      ["done", 1, ids[1]],
      ["done", 1, ids[2]],
    ],
  );
  await worker.stop();
});

test("jobs expire on time while the cloud is unreachable", async () => {
  const { clock, store, worker, enqueue } = setup({ online: false, send: async () => "never" });
  const id = enqueue("late", 5, 5000);
  worker.start();
  clock.advance(4999);
  assert.equal(store.get(id)!.status, "queued");
  clock.advance(1);
  assert.deepEqual([store.get(id)!.status, store.get(id)!.reason], ["expired", "ttl elapsed after 0 attempts"]);
  await worker.stop();
});

test("kick() sends a job enqueued while the worker was idle at once", async () => {
  const sent: string[] = [];
  const { clock, worker, enqueue } = setup({ send: async (job) => sent.push(job.id) });
  worker.start();
  assert.equal(clock.timers, 0);
  const id = enqueue("now");
  worker.kick();
  assert.deepEqual(sent, [id]);
  await worker.stop();
});

test("stop() aborts sends in flight; their jobs stay running and the next start replays them once", async () => {
  const signals: AbortSignal[] = [];
  const hang = (_job: ClaimedJob, signal: AbortSignal) => {
    signals.push(signal);
    return new Promise<unknown>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
  };
  const { store, connectivity, worker, enqueue } = setup({ send: hang });
  const id = enqueue("slow");
  worker.start();
  await settle();
  await worker.stop();
  assert.equal(signals[0]?.aborted, true);
  assert.equal(store.get(id)!.status, "running");

  const next = new ReplayWorker({ store, connectivity, send: async () => "finally", classify: () => "retryable" });
  next.start();
  await next.drain();
  const job = store.get(id)!;
  assert.deepEqual([job.status, job.attempts, job.result], ["done", 2, "finally"]);
  assert.deepEqual(
    store.events(id).map((e) => e.event),
    ["enqueued", "claimed", "recovered", "claimed", "done"],
  );
  await next.stop();
});

test("nothing is claimed while the sender says no send could get through (every breaker open); each recorded result is reported once", async () => {
  const sent: string[] = [];
  const done: string[] = [];
  const hold = { until: Infinity };
  const { clock, worker, enqueue, store } = setup({
    send: async (job) => void sent.push(job.id),
    holdMs: () => hold.until - clock.now(),
    onDone: (job) => void done.push(job.id),
  });
  hold.until = clock.now() + 5000;
  const id = enqueue({ n: 1 });
  worker.start();
  await settle();
  assert.deepEqual(sent, []);
  assert.equal(store.get(id)!.attempts, 0, "no attempt is spent while held");
  clock.advance(5000);
  await settle();
  await worker.drain();
  assert.deepEqual(sent, [id]);
  assert.deepEqual(done, [id]);
  await worker.stop();
});

test("a result the full disk refuses is kept and recorded once space is freed: sent once, done once", async () => {
  const events: boolean[] = [];
  let sends = 0;
  const answer = "amen ".repeat(20_000); // a result that needs new pages in the database
  const { clock, db, store, worker, enqueue } = setup({ send: async () => (sends++, answer), onStorage: (full) => events.push(full) });
  const id = enqueue("psalm");
  // SQLite's own limit on the database's size stands for a full disk: writes that need a new page fail with SQLITE_FULL
  const pages = db.pragma("page_count", { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  worker.start();
  await settle();
  assert.deepEqual([store.get(id)!.status, sends, events], ["running", 1, [true]]);
  clock.advance(1000);
  await settle();
  assert.equal(store.get(id)!.status, "running", "still refused: waiting, not lost");
  db.pragma("max_page_count = 1073741823");
  clock.advance(1000);
  await worker.drain();
  assert.deepEqual([store.get(id)!.status, store.get(id)!.result, sends, doneEvents(store, id), events], ["done", answer, 1, 1, [true, false]]);
  await worker.stop();
});

test("a full disk pauses claiming; the worker claims again once writes succeed", async () => {
  const sent: string[] = [];
  const events: boolean[] = [];
  const { clock, db, store, worker, enqueue } = setup({ send: async (job) => (sent.push(job.id), "ok"), onStorage: (full) => events.push(full) });
  // no page to spare, and the queue's own pages filled with jobs: claiming one (which records an event) is refused
  db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true })}`);
  const ids: string[] = [];
  assert.throws(() => {
    for (;;) ids.push(enqueue("x"));
  }, /full/);
  worker.start();
  await settle();
  assert.deepEqual([sent, events], [[], [true]]);
  assert.ok(ids.length > 0 && ids.every((id) => store.get(id)!.status === "queued"));
  db.pragma("max_page_count = 1073741823");
  clock.advance(1000);
  await worker.drain();
  assert.deepEqual([sent.sort(), events], [[...ids].sort(), [true, false]]);
  assert.ok(ids.every((id) => store.get(id)!.status === "done" && doneEvents(store, id) === 1));
  await worker.stop();
});
