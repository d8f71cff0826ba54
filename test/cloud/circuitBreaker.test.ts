import assert from "node:assert/strict";
import { test } from "node:test";
import { CircuitBreaker, type BreakerState } from "../../src/cloud/circuitBreaker.js";
import { CloudError } from "../../src/cloud/errors.js";
import { ask, collect, setup } from "./harness.js";

function breaker(options: Partial<ConstructorParameters<typeof CircuitBreaker>[0]> = {}) {
  const clock = { now: 0 };
  const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1000, halfOpenMaxCalls: 1, now: () => clock.now, ...options });
  const changes: string[] = [];
  b.onStateChange((to: BreakerState, from: BreakerState) => changes.push(`${from}->${to}`));
  return { b, clock, changes };
}

test("opens after failureThreshold consecutive failures; a success in between starts the count again", () => {
  const { b, changes } = breaker();
  b.tryAcquire()!("failure");
  b.tryAcquire()!("failure");
  b.tryAcquire()!("success");
  b.tryAcquire()!("failure");
  b.tryAcquire()!("ignored");
  b.tryAcquire()!("failure");
  assert.equal(b.state, "closed");
  b.tryAcquire()!("failure");
  assert.equal(b.state, "open");
  assert.equal(b.tryAcquire(), undefined);
  assert.deepEqual(changes, ["closed->open"]);
});

test("half-open after openMs: a limited number of trials; a trial's success closes, its failure reopens", () => {
  const { b, clock, changes } = breaker({ failureThreshold: 1, halfOpenMaxCalls: 2 });
  b.tryAcquire()!("failure");
  clock.now = 999;
  assert.equal(b.state, "open");
  assert.equal(b.retryInMs, 1);
  clock.now = 1000;
  assert.equal(b.state, "half-open");
  const trial1 = b.tryAcquire()!;
  const trial2 = b.tryAcquire()!;
  assert.equal(b.tryAcquire(), undefined, "only two trials at once");
  trial1("failure");
  assert.equal(b.state, "open");
  trial2("success"); // the outcome of a trial from the half-open period that already ended counts for nothing
  assert.equal(b.state, "open");
  clock.now = 2000;
  const trial3 = b.tryAcquire()!;
  trial3("ignored"); // an aborted trial frees its place without deciding anything
  assert.equal(b.state, "half-open");
  const trial4 = b.tryAcquire()!;
  trial4("success");
  trial4("failure"); // a permit counts once
  assert.equal(b.state, "closed");
  assert.deepEqual(changes, ["closed->open", "open->half-open", "half-open->open", "open->half-open", "half-open->closed"]);
});

test("through createProvider: 5xx open the breaker, which then fails fast without a request, and closes after a good trial", async (t) => {
  const { fake, provider, breaker, clock } = await setup(t, { config: { retry: { maxRetries: 0 }, breaker: { failureThreshold: 2, openMs: 5000 } } });
  fake.setFaults([{ status: 500 }, { status: 503 }]);
  await assert.rejects(provider.chat(ask("a", { max_tokens: 0 })), (e: CloudError) => e.status === 400); // the caller's fault: not counted
  await assert.rejects(provider.chat(ask("a")), (e: CloudError) => e.status === 500);
  assert.equal(breaker.state, "closed");
  await assert.rejects(provider.chat(ask("a")), (e: CloudError) => e.status === 503);
  assert.equal(breaker.state, "open");
  const sent = fake.requests.length;
  await assert.rejects(provider.chat(ask("a")), (e: CloudError) => e.kind === "breaker_open" && e.retryAfterMs === 5000);
  await assert.rejects(provider.stream(ask("a")), (e: CloudError) => e.kind === "breaker_open");
  assert.equal(fake.requests.length, sent, "no request while open");
  clock.now += 5000;
  assert.equal(breaker.state, "half-open");
  assert.equal((await provider.chat(ask("a"))).text, "You said 1 words: a");
  assert.equal(breaker.state, "closed");
});

test("retries stop as soon as the breaker opens: the caller gets breaker_open, not more attempts", async (t) => {
  const { fake, provider, breaker } = await setup(t, { config: { retry: { maxRetries: 5 }, breaker: { failureThreshold: 2 } } });
  fake.setFaults(() => ({ status: 500 }));
  await assert.rejects(provider.chat(ask("a")), (e: CloudError) => e.kind === "breaker_open");
  assert.equal(fake.requests.length, 2);
  assert.equal(breaker.state, "open");
});

test("a stream counts as a success only once it completes; a trial stream that is cut reopens the breaker", async (t) => {
  const { fake, provider, breaker, clock } = await setup(t, { config: { retry: { maxRetries: 0 }, breaker: { failureThreshold: 1, openMs: 1000 } } });
  fake.setFaults([{ status: 500 }, { resetAfterChunks: 2 }]);
  await assert.rejects(provider.stream(ask("a")), (e: CloudError) => e.status === 500);
  clock.now += 1000;
  const cut = await provider.stream(ask("a"));
  assert.equal(breaker.state, "half-open", "resolving the stream decides nothing yet");
  await assert.rejects(collect(cut), (e: CloudError) => e.kind === "stream_cut");
  assert.equal(breaker.state, "open");
  clock.now += 1000;
  const good = await provider.stream(ask("a"));
  assert.equal(breaker.state, "half-open");
  await assert.rejects(provider.chat(ask("a")), (e: CloudError) => e.kind === "breaker_open", "the one trial is under way");
  assert.equal((await collect(good)).done?.finishReason, "stop");
  assert.equal(breaker.state, "closed");
});

test("an aborted call and an abandoned stream do not count as failures", async (t) => {
  const { fake, provider, breaker } = await setup(t, { config: { retry: { maxRetries: 0 }, breaker: { failureThreshold: 1 } }, fake: { latency: { perTokenMs: 20 } } });
  const controller = new AbortController();
  const events = await provider.stream(ask("a b c"), { signal: controller.signal });
  controller.abort();
  await assert.rejects(collect(events), (e: CloudError) => e.kind === "aborted");
  const unread = await provider.stream(ask("a b c"));
  await unread[Symbol.asyncIterator]().return?.();
  await fake.idle();
  assert.equal(breaker.state, "closed");
  assert.deepEqual(fake.requests.map((r) => r.outcome), ["client_closed", "client_closed"]);
});
