/**
 * Alert rules driven to firing and back to resolved by real conditions in a running daemon (the library's
 * startDaemon, in this process) with an injected clock: errors from the fake cloud (ErrorRate) with its circuit
 * breaker held open (CloudBreakerOpen), a flood of slow answers (SlowRequests), a queue filled while the cloud is
 * offline (OfflineQueueBacklog), and the cloud tokens all that spent (TokenBurn). The clock moves in steps, and each
 * step waits for an evaluation at the new time (GET /v1/alerts says when it evaluated), so `for:` durations and
 * rate windows pass in moments and nothing depends on how fast the machine is.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startFakeCloud, type FakeCloud } from "../fakeCloud/fakeCloud.js";
import { scratchDir } from "../helpers/paths.js";
import { until } from "../helpers/until.js";
import { Config, startDaemon, type Daemon } from "../../src/index.js";

const MINUTE = 60_000;
let cloud: FakeCloud;
let daemon: Daemon;
let offset = 0;
const now = () => Date.now() + offset;
const lines: string[] = [];

before(async () => {
  cloud = await startFakeCloud();
  const rule = (name: string, signal: string, threshold: number, forDuration: string) => ({ name, signal, op: ">", threshold, for: forDuration, severity: "warning" });
  const config = Config.parse({
    host: "127.0.0.1",
    port: 0,
    dataDir: scratchDir("edged-alerts-"),
    cloud: {
      providers: [
        // errors go on reaching the client: this breaker never opens
        { id: "cloud", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake", retry: { maxRetries: 0 }, breaker: { failureThreshold: 1000 } },
        // the same cloud, with a breaker that opens after three failures and stays open ten minutes
        { id: "flaky", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake", retry: { maxRetries: 0 }, breaker: { failureThreshold: 3, openMs: 10 * MINUTE } },
      ],
    },
    // every request to these goes to the cloud, with no device to fall back to
    router: {
      defaultBudgetMs: 60_000,
      routes: [
        { model: "cloudy", local: "edged-kjv:q4_k_m", cloud: ["cloud"], difficultyThreshold: 0, fallbackToLocal: false },
        { model: "flaky", local: "edged-kjv:q4_k_m", cloud: ["flaky"], difficultyThreshold: 0, fallbackToLocal: false },
      ],
    },
    offline: { probeInterval: "100ms", retryBaseMs: 20, retryMaxMs: 200 },
    alerts: {
      interval: "50ms",
      rules: [rule("ErrorRate", "error_ratio", 0.02, "5m"), rule("CloudBreakerOpen", "breaker_open", 0, "5m"), rule("SlowRequests", "request_latency_p95_seconds", 0.3, "2m"), rule("OfflineQueueBacklog", "queued_jobs", 2, "1m"), rule("TokenBurn", "cloud_tokens_per_hour", 100, "0s")],
    },
  });
  daemon = await startDaemon(config, (line) => lines.push(line), { now });
  await daemon.ready;
});
after(async () => {
  await daemon?.stop();
  await cloud?.stop();
});

interface View {
  evaluated_at: string;
  alerts: { name: string; state: string; value: number | null }[];
}
const alerts = async () => (await (await fetch(`${daemon.url}/v1/alerts`)).json()) as View;
/** Waits for an evaluation at or after the clock's time now; the rules as it left them. */
async function evaluated(): Promise<Record<string, string>> {
  const at = now();
  const view = await until("an evaluation at the new time", async () => {
    const v = await alerts();
    return Date.parse(v.evaluated_at) >= at ? v : undefined;
  });
  return Object.fromEntries(view.alerts.map((a) => [a.name, a.state]));
}
const step = async (ms: number, work: () => Promise<unknown> = async () => undefined) => {
  offset += ms;
  await work();
  return evaluated();
};
/** The states each alert went through, from the daemon's log. */
const seen = (name: string) => lines.filter((l) => l.includes('"event":"alert"')).map((l) => JSON.parse(l) as { name: string; state: string }).filter((e) => e.name === name).map((e) => e.state);

async function ask(headers: Record<string, string> = {}, model = "cloudy"): Promise<number> {
  const res = await fetch(`${daemon.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: "user", content: "Sing unto the LORD a new song" }] }),
  });
  await res.arrayBuffer();
  return res.status;
}
const askMany = (n: number, headers?: Record<string, string>) => Promise.all(Array.from({ length: n }, () => ask(headers)));

test("the cloud failing: ErrorRate and CloudBreakerOpen pending at once, firing after 5 minutes of it, resolved once it answers again", { timeout: 120_000 }, async () => {
  cloud.setFaults(() => ({ status: 500 }));
  let states = await step(0, async () => {
    assert.deepEqual(await askMany(2), [502, 502]);
    for (let i = 0; i < 3; i++) assert.equal(await ask({}, "flaky"), 502);
  });
  assert.equal(states.ErrorRate, "pending");
  assert.equal(states.CloudBreakerOpen, "pending", "three failures opened the breaker");
  for (let minute = 1; minute <= 5; minute++) states = await step(MINUTE, async () => assert.deepEqual(await askMany(2), [502, 502]));
  assert.equal(states.ErrorRate, "firing");
  assert.equal(states.CloudBreakerOpen, "firing");

  cloud.setFaults([]);
  // past the breaker's 10 minutes open and the error window: a trial call goes through and closes it
  states = await step(11 * MINUTE, async () => assert.deepEqual([await ask(), await ask({}, "flaky")], [200, 200]));
  assert.equal(states.ErrorRate, "inactive");
  assert.equal(states.CloudBreakerOpen, "inactive");
  assert.deepEqual(seen("ErrorRate"), ["pending", "firing", "resolved"]);
  assert.deepEqual(seen("CloudBreakerOpen"), ["pending", "firing", "resolved"]);
});

test("a flood of slow answers: SlowRequests fires after 2 minutes of them and resolves once the window holds fast ones", { timeout: 120_000 }, async () => {
  cloud.setFaults(() => ({ latency: { firstByteMs: 500 } }));
  let states = await step(0, async () => assert.deepEqual(await askMany(4), [200, 200, 200, 200]));
  assert.equal(states.SlowRequests, "pending");
  for (let minute = 1; minute <= 2; minute++) states = await step(MINUTE, async () => assert.deepEqual(await askMany(4), [200, 200, 200, 200]));
  assert.equal(states.SlowRequests, "firing");
  cloud.setFaults([]);
  states = await step(6 * MINUTE, async () => assert.equal(await ask(), 200));
  assert.equal(states.SlowRequests, "inactive");
  assert.deepEqual(seen("SlowRequests"), ["pending", "firing", "resolved"]);
});

test("the cloud offline: deferred requests fill the queue, OfflineQueueBacklog fires after a minute and resolves once they are sent", { timeout: 120_000 }, async () => {
  await cloud.goOffline();
  let states = await step(0, async () => assert.deepEqual(await askMany(4, { "x-edged-allow-defer": "true" }), [202, 202, 202, 202]));
  assert.equal(states.OfflineQueueBacklog, "pending");
  states = await step(MINUTE);
  assert.equal(states.OfflineQueueBacklog, "firing");
  await cloud.goOnline();
  await until("the queue sent", async () => ((await evaluated()).OfflineQueueBacklog === "inactive" ? true : undefined), 60_000);
  assert.deepEqual(seen("OfflineQueueBacklog"), ["pending", "firing", "resolved"]);
});

test("the tokens all that spent: TokenBurn fired past 100 an hour, and resolves an hour later", async () => {
  assert.deepEqual(seen("TokenBurn").slice(0, 2), ["pending", "firing"]);
  const states = await step(61 * MINUTE);
  assert.equal(states.TokenBurn, "inactive");
  assert.equal(seen("TokenBurn").at(-1), "resolved");
});
