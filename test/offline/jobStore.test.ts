import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { openDatabase } from "../../src/db/open.js";
import { IdempotencyConflictError, JobStore } from "../../src/offline/jobStore.js";
import { OFFLINE_MIGRATIONS } from "../../src/offline/migrations.js";
import { scratchDir } from "../helpers/paths.js";
import { FakeClock } from "./fakeClock.js";

const dir = scratchDir("edged-offline-");
let n = 0;
function fresh() {
  const clock = new FakeClock();
  const path = join(dir, `queue-${n++}.db`);
  return { path, clock, store: new JobStore(openDatabase(path, OFFLINE_MIGRATIONS), { now: clock.now }) };
}

const chat = { model: "cloud-large", messages: [{ role: "user", content: "summarise the visit" }], temperature: 0.2 };
const add = (store: JobStore, extra: Partial<Parameters<JobStore["enqueue"]>[0]> = {}) => store.enqueue({ request: chat, ttlMs: 60_000, maxAttempts: 3, ...extra }).job;
const eventNames = (store: JobStore, id: string) => store.events(id).map((e) => e.event);

test("a repeated idempotency key returns the same job; the same key with another body is a conflict", () => {
  const { path, clock, store } = fresh();
  const first = store.enqueue({ idempotencyKey: "visit-17", request: chat, target: "openai", ttlMs: 60_000, maxAttempts: 3 });
  assert.equal(first.created, true);
  assert.equal(first.job.status, "queued");
  assert.equal(first.job.attempts, 0);
  assert.equal(first.job.expiresAt, clock.now() + 60_000);
  assert.deepEqual(first.job.request, chat);
  assert.match(first.job.id, /^job_/);

  clock.advance(10);
  const reordered = { temperature: 0.2, messages: [{ content: "summarise the visit", role: "user" }], model: "cloud-large" };
  const again = store.enqueue({ idempotencyKey: "visit-17", request: reordered, target: "openai", ttlMs: 5, maxAttempts: 1 });
  assert.equal(again.created, false);
  assert.deepEqual(again.job, first.job);

  for (const other of [{ request: { ...chat, temperature: 0.9 }, target: "openai" }, { request: chat, target: "anthropic" }]) {
    assert.throws(
      () => store.enqueue({ idempotencyKey: "visit-17", ttlMs: 60_000, maxAttempts: 3, ...other }),
      (e) => e instanceof IdempotencyConflictError && e.jobId === first.job.id && e.idempotencyKey === "visit-17",
    );
  }
  assert.deepEqual(eventNames(store, first.job.id), ["enqueued"]);
  assert.equal(store.byKey("visit-17")?.id, first.job.id);

  const a = add(store);
  const b = add(store);
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.idempotencyKey, b.idempotencyKey);
  assert.equal(store.counts().queued, 3);

  store.db.close();
  const reopened = new JobStore(openDatabase(path, OFFLINE_MIGRATIONS), { now: clock.now });
  assert.deepEqual(reopened.get(first.job.id), first.job);
});

test("a claim holds a lease: only its holder records the outcome, and only once", () => {
  const { store } = fresh();
  const ids = [add(store).id, add(store).id, add(store).id];
  const claimed = store.claimDue(2);
  assert.equal(claimed.length, 2);
  assert.equal(store.claimDue(5).length, 1);
  assert.deepEqual(store.claimDue(5), []);
  for (const job of claimed) {
    assert.equal(job.status, "running");
    assert.equal(job.attempts, 1);
  }
  assert.notEqual(claimed[0]!.lease, claimed[1]!.lease);

  const job = claimed[0]!;
  assert.equal(store.complete(job.id, "not-the-lease", { text: "forged" }), false);
  assert.equal(store.complete(job.id, job.lease, { text: "summary" }), true);
  assert.equal(store.complete(job.id, job.lease, { text: "again" }), false);
  const done = store.get(job.id)!;
  assert.equal(done.status, "done");
  assert.deepEqual(done.result, { text: "summary" });
  assert.equal(done.lease, null);
  assert.deepEqual(eventNames(store, job.id), ["enqueued", "claimed", "done"]);

  // the process holding the second claim died; after recovery a new claim supersedes the old lease
  const stale = claimed[1]!;
  store.recoverInterrupted();
  const [fresher] = store.claimDue(5).filter((j) => j.id === stale.id);
  assert.ok(fresher);
  assert.equal(fresher.attempts, 2);
  assert.equal(store.complete(stale.id, stale.lease, { text: "late" }), false);
  assert.equal(store.retry(stale.id, stale.lease, "late failure", 0), false);
  assert.equal(store.deadLetter(stale.id, stale.lease, "late failure"), false);
  assert.equal(store.complete(stale.id, fresher.lease, { text: "current" }), true);
  assert.deepEqual(store.get(stale.id)!.result, { text: "current" });
  assert.equal(store.events(stale.id).filter((e) => e.event === "done").length, 1);
  assert.deepEqual(new Set(ids), new Set(store.list().map((j) => j.id)));
});

test("retry waits until the next attempt is due; the last allowed attempt failing dead-letters the job", () => {
  const { clock, store } = fresh();
  const job = add(store, { maxAttempts: 2 });
  const first = store.claimDue(1)[0]!;
  assert.equal(store.retry(job.id, first.lease, "upstream 503", clock.now() + 1000), true);
  const waiting = store.get(job.id)!;
  assert.equal(waiting.status, "queued");
  assert.equal(waiting.error, "upstream 503");
  assert.equal(store.nextDueAt(), clock.now() + 1000);
  clock.advance(999);
  assert.deepEqual(store.claimDue(1), []);
  clock.advance(1);
  const second = store.claimDue(1)[0]!;
  assert.equal(second.attempts, 2);
  assert.equal(store.retry(job.id, second.lease, "upstream 503 again", clock.now() + 1000), true);
  const dead = store.get(job.id)!;
  assert.equal(dead.status, "dead");
  assert.equal(dead.reason, "gave up after 2 attempts");
  assert.equal(dead.error, "upstream 503 again");
  assert.equal(store.nextDueAt(), null);
  assert.deepEqual(eventNames(store, job.id), ["enqueued", "claimed", "retry", "claimed", "dead"]);

  const bad = add(store, { maxAttempts: 5 });
  const claim = store.claimDue(1)[0]!;
  assert.equal(store.deadLetter(bad.id, claim.lease, "400 unknown model"), true);
  assert.deepEqual([store.get(bad.id)!.status, store.get(bad.id)!.reason, store.get(bad.id)!.attempts], ["dead", "not retryable", 1]);
});

test("queued jobs past their TTL expire with the reason; running ones are left to finish", () => {
  const { clock, store } = fresh();
  const retried = add(store, { ttlMs: 1000 });
  const claim = store.claimDue(1)[0]!;
  store.retry(retried.id, claim.lease, "upstream 503", clock.now() + 2000);
  const never = add(store, { ttlMs: 1500 });
  const later = add(store, { ttlMs: 5000 });
  assert.equal(store.nextExpiryAt(), retried.expiresAt);

  clock.advance(1500);
  assert.deepEqual(store.claimDue(10).map((j) => j.id), [later.id]); // due but expired: not claimed
  assert.equal(store.expire(), 2);
  assert.equal(store.expire(), 0);
  assert.deepEqual([store.get(retried.id)!.status, store.get(retried.id)!.reason], ["expired", "ttl elapsed after 1 attempt"]);
  assert.deepEqual([store.get(never.id)!.status, store.get(never.id)!.reason], ["expired", "ttl elapsed after 0 attempts"]);
  const expired = store.events(never.id).at(-1)!;
  assert.deepEqual([expired.event, expired.at, expired.attempt, expired.detail], ["expired", clock.now(), 0, "ttl elapsed after 0 attempts"]);

  clock.advance(5000);
  assert.equal(store.expire(), 0);
  assert.equal(store.get(later.id)!.status, "running");
  assert.equal(store.nextExpiryAt(), null);
});

test("recoverInterrupted requeues running jobs with the attempt counted; one cut off on its last attempt is dead", () => {
  const { clock, store } = fresh();
  const spare = add(store, { maxAttempts: 3 });
  const last = add(store, { maxAttempts: 1 });
  store.claimDue(2);
  clock.advance(100);
  assert.equal(store.recoverInterrupted(), 2);
  const back = store.get(spare.id)!;
  assert.deepEqual([back.status, back.attempts, back.lease, back.nextAttemptAt], ["queued", 1, null, spare.nextAttemptAt], "due when it was first due");
  assert.deepEqual(eventNames(store, spare.id), ["enqueued", "claimed", "recovered"]);
  const dead = store.get(last.id)!;
  assert.deepEqual([dead.status, dead.reason], ["dead", "interrupted on its last attempt"]);
  assert.equal(store.recoverInterrupted(), 0);
  const backlog = add(store, {});
  const claimed = store.claimDue(1);
  assert.deepEqual(claimed.map((j) => [j.id, j.attempts]), [[spare.id, 2]], "ahead of the backlog that waited behind it");
  assert.equal(store.get(backlog.id)!.status, "queued");
});

test("list pages newest first, counts by status, purge removes old finished jobs and their events", () => {
  const { clock, store } = fresh();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(add(store, { request: { n: i } }).id);
    clock.advance(1);
  }
  const pages: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const page = store.list({ limit: 2, after }).map((j) => j.id);
    if (page.length === 0) break;
    pages.push(page);
    after = page.at(-1);
  }
  assert.deepEqual(pages, [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);

  const [job] = store.claimDue(1);
  store.complete(job!.id, job!.lease, "ok");
  assert.deepEqual(store.counts(), { queued: 4, running: 0, done: 1, dead: 0, expired: 0 });
  assert.deepEqual(store.list({ status: "done" }).map((j) => j.id), [job!.id]);

  clock.advance(999);
  assert.equal(store.purge({ status: "done", olderThanMs: 1000 }), 0);
  clock.advance(1);
  assert.equal(store.purge({ status: "done", olderThanMs: 1000 }), 1);
  assert.equal(store.get(job!.id), undefined);
  assert.deepEqual(store.events(job!.id), []);
  assert.throws(() => store.purge({ status: "queued" as "done", olderThanMs: 0 }));
  assert.equal(store.counts().queued, 4);
});

test("the schema itself keeps one result per job and an append-only history", () => {
  const { store } = fresh();
  add(store);
  const [job] = store.claimDue(1);
  store.complete(job!.id, job!.lease, "ok");
  assert.throws(() => store.db.prepare("INSERT INTO job_events (job_id, at, attempt, event) VALUES (?, 0, 1, 'done')").run(job!.id), /UNIQUE/);
  assert.throws(() => store.db.prepare("UPDATE job_events SET detail = 'edited'").run(), /append-only/);
});
