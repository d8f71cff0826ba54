import assert from "node:assert/strict";
import { test } from "node:test";
import { CloudError, parseRetryAfter } from "../../src/cloud/errors.js";
import { ask, collect, setup } from "./harness.js";

const QUESTION = "retry me please";
const ANSWER = `You said 3 words: ${QUESTION}`;
const kindOf = (kind: CloudError["kind"]) => (e: unknown) => e instanceof CloudError && e.kind === kind;

test("a 500 is retried after a full-jitter backoff, with the same idempotency key", async (t) => {
  const { fake, provider, sleeps } = await setup(t);
  fake.setFaults([{ status: 500 }]);
  assert.equal((await provider.chat(ask(QUESTION), { idempotencyKey: "call-1" })).text, ANSWER);
  assert.deepEqual(sleeps, [0.5 * 200]);
  assert.deepEqual(fake.requests.map((r) => [r.outcome, r.idempotencyKey]), [["fault", "call-1"], ["completed", "call-1"]]);
});

test("backoff doubles per attempt; after maxRetries the last error surfaces", async (t) => {
  const { fake, provider, sleeps } = await setup(t, { config: { retry: { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 300 } } });
  fake.setFaults(() => ({ status: 503 }));
  await assert.rejects(provider.chat(ask(QUESTION)), (e: CloudError) => e.kind === "status" && e.status === 503 && /temporarily unavailable/.test(e.message));
  assert.deepEqual(sleeps, [0.5 * 100, 0.5 * 200, 0.5 * 300]); // capped at maxDelayMs
  assert.equal(fake.requests.length, 4);
});

test("429 with Retry-After waits exactly that long before the retry", async (t) => {
  const { fake, provider, sleeps } = await setup(t);
  fake.setFaults([{ status: 429, retryAfter: 3 }]);
  assert.equal((await provider.chat(ask(QUESTION))).text, ANSWER);
  assert.deepEqual(sleeps, [3000]);
});

test("a Retry-After longer than maxDelayMs is not waited for: the 429 surfaces with it", async (t) => {
  const { fake, provider, sleeps } = await setup(t);
  fake.setFaults([{ status: 429, retryAfter: 60 }]);
  await assert.rejects(provider.chat(ask(QUESTION)), (e: CloudError) => e.status === 429 && e.retryAfterMs === 60_000);
  assert.deepEqual(sleeps, []);
  assert.equal(fake.requests.length, 1);
});

test("Retry-After is read as seconds or as an HTTP date", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("2", now), 2000);
  assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:07 GMT", now), 7000);
  assert.equal(parseRetryAfter("soon", now), undefined);
});

test("a 400 is not retried", async (t) => {
  const { fake, provider, sleeps } = await setup(t);
  await assert.rejects(provider.chat(ask(QUESTION, { max_tokens: 0 })), (e: CloudError) => e.kind === "status" && e.status === 400);
  assert.deepEqual(sleeps, []);
  assert.equal(fake.requests.length, 1);
});

test("a first byte slower than firstByteTimeoutMs is a timeout, not retried", async (t) => {
  const { fake, provider } = await setup(t, { config: { firstByteTimeoutMs: 100 } });
  fake.setFaults([{ slowFirstByteMs: 10_000 }]);
  await assert.rejects(provider.chat(ask(QUESTION)), (e: CloudError) => e.kind === "timeout" && e.beforeFirstByte);
  await fake.idle();
  assert.deepEqual(fake.requests.map((r) => r.outcome), ["client_closed"]);
});

test("a stream that goes quiet longer than idleTimeoutMs throws a timeout while iterating", async (t) => {
  const { fake, provider } = await setup(t, { config: { idleTimeoutMs: 100 } });
  fake.setFaults([{ latency: { perTokenMs: 10_000 } }]);
  const events = await provider.stream(ask(QUESTION));
  await assert.rejects(collect(events), (e: CloudError) => e.kind === "timeout" && !e.beforeFirstByte);
  assert.equal(fake.requests.length, 1);
});

test("a 500 before a stream starts is retried; a reset in the middle of one throws stream_cut and is not", async (t) => {
  const { fake, provider } = await setup(t);
  fake.setFaults([{ status: 500 }, { resetAfterChunks: 3 }]);
  const events = await provider.stream(ask(QUESTION));
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const event of events) if (event.type === "text") seen.push(event.text);
  }, kindOf("stream_cut"));
  assert.deepEqual(seen, ["You", " said"]);
  assert.deepEqual(fake.requests.map((r) => r.outcome), ["fault", "fault"]);
  assert.equal((await collect(await provider.stream(ask(QUESTION)))).text, ANSWER, "the next call works");
});

test("a JSON answer cut off mid-body is stream_cut, not retried", async (t) => {
  const { fake, provider } = await setup(t);
  fake.setFaults([{ resetAfterChunks: 1 }]);
  await assert.rejects(provider.chat(ask(QUESTION)), (e: CloudError) => e.kind === "stream_cut" && !e.beforeFirstByte);
  assert.equal(fake.requests.length, 1);
});

test("a refused connection is a connect error (retried, then surfaced); the provider recovers when the server is back", async (t) => {
  const { fake, provider, sleeps } = await setup(t);
  assert.equal((await provider.chat(ask(QUESTION))).text, ANSWER); // a pooled keep-alive connection exists now
  await fake.goOffline();
  await assert.rejects(provider.chat(ask(QUESTION)), (e: CloudError) => e.kind === "connect" && e.beforeFirstByte);
  assert.equal(sleeps.length, 2);
  await fake.goOnline();
  assert.equal((await provider.chat(ask(QUESTION))).text, ANSWER);
  await provider.probe();
});

test("aborting mid-stream throws kind aborted and closes the connection", async (t) => {
  const { fake, provider } = await setup(t, { fake: { latency: { perTokenMs: 20 } } });
  const controller = new AbortController();
  const events = await provider.stream(ask(QUESTION), { signal: controller.signal });
  await assert.rejects(async () => {
    for await (const event of events) if (event.type === "text") controller.abort();
  }, kindOf("aborted"));
  await fake.idle();
  assert.equal(fake.requests[0]?.outcome, "client_closed");
});

test("aborting while waiting for the first byte throws kind aborted, without a retry", async (t) => {
  const { fake, provider, sleeps } = await setup(t);
  fake.setFaults([{ slowFirstByteMs: 10_000 }]);
  const controller = new AbortController();
  const pending = provider.chat(ask(QUESTION), { signal: controller.signal });
  while (fake.requests.length === 0) await new Promise((r) => setImmediate(r));
  controller.abort();
  await assert.rejects(pending, kindOf("aborted"));
  assert.deepEqual(sleeps, []);
  await fake.idle();
  assert.equal(fake.requests[0]?.outcome, "client_closed");
});

test("leaving a stream early closes its connection", async (t) => {
  const { fake, provider } = await setup(t, { fake: { latency: { perTokenMs: 20 } } });
  for await (const event of await provider.stream(ask(QUESTION))) if (event.type === "text") break;
  await fake.idle();
  assert.equal(fake.requests[0]?.outcome, "client_closed");
});

test("a repeated Idempotency-Key is answered from the fake's cache: the work is done once", async (t) => {
  const { fake, provider } = await setup(t);
  const first = await provider.chat(ask(QUESTION), { idempotencyKey: "k-1" });
  const again = await provider.chat(ask(QUESTION), { idempotencyKey: "k-1" });
  const streamed = await collect(await provider.stream(ask(QUESTION, { max_tokens: 2 }), { idempotencyKey: "k-2" }));
  const replayed = await collect(await provider.stream(ask(QUESTION, { max_tokens: 2 }), { idempotencyKey: "k-2" }));
  assert.deepEqual(again, first);
  assert.deepEqual(replayed, streamed);
  assert.deepEqual([...fake.completedByKey], [["k-1", 1], ["k-2", 1]]);
  assert.deepEqual(fake.requests.map((r) => r.outcome), ["completed", "replayed", "completed", "replayed"]);
});
