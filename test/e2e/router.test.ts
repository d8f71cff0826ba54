/**
 * The router end to end: the real daemon on the bundled model, escalating to two loopback fake clouds (one
 * speaking OpenAI's wire protocol, one Anthropic's), driven with the official openai client and raw HTTP.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { fakeProviders } from "../helpers/fakeProviders.js";
import { startFakeCloud, type FakeCloud } from "../fakeCloud/fakeCloud.js";
import { until } from "../helpers/until.js";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { CLI, scratchDir } from "../helpers/paths.js";

const MODEL = "edged-kjv:q4_k_m";
const run = promisify(execFile);
let openaiCloud: FakeCloud;
let anthropicCloud: FakeCloud;
let daemon: RunningDaemon;
let client: OpenAI;

/**
 * Budgets no machine speed can cross by accident: the default of 1 ms (router.defaultBudgetMs below) is missed by
 * any generation, so a "big" request always wants the cloud; a "small" one carries a budget of a minute.
 */
const DEVICE_BUDGET_MS = 60_000;
const big = (content: string) => ({ model: MODEL, max_tokens: 300, messages: [{ role: "user" as const, content }] });
/**
 * Once a cloud has been measured, a request over budget on the device stays there when the cloud is predicted slower
 * still, and for a loopback fake that depends on the machine's load. Tests of what happens in the cloud send their
 * requests by the "cloudward" route, which counts every prompt as difficult under a budget the device always makes.
 */
const cloudward = (content: string) => ({ ...big(content), model: "cloudward", edged: { latency_budget_ms: DEVICE_BUDGET_MS } });
const small = (content: string) => ({ model: MODEL, max_tokens: 4, messages: [{ role: "user" as const, content }], edged: { latency_budget_ms: DEVICE_BUDGET_MS } });

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${daemon.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

before(async () => {
  openaiCloud = await startFakeCloud({ apiKey: "sk-test-openai" });
  anthropicCloud = await startFakeCloud({ apiKey: "sk-ant-test" });
  const dir = scratchDir();
  const config = join(dir, "edged.json");
  const fast = { retry: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 50 }, breaker: { failureThreshold: 50 } };
  await writeFile(
    config,
    JSON.stringify({
      cloud: {
        providers: fakeProviders(openaiCloud, anthropicCloud, { openai: { apiKeyEnv: "FAKE_OPENAI_KEY" }, anthropic: { apiKeyEnv: "FAKE_ANTHROPIC_KEY" } }, fast),
      },
      router: {
        defaultBudgetMs: 1,
        routes: [
          { model: "strict", local: MODEL, cloud: ["openai-a"], cascade: { tokens: 4, minMeanLogprob: -0.0001 } },
          { model: "lenient", local: MODEL, cloud: ["openai-a"], cascade: { tokens: 4, minMeanLogprob: -60 } },
          { model: "guarded", local: MODEL, cloud: ["openai-a"], redaction: "DENY", fallbackToLocal: false },
          { model: "cloudward", local: MODEL, cloud: ["openai-a", "anthropic-b"], difficultyThreshold: 0 },
        ],
      },
      offline: { probeInterval: "100ms", retryBaseMs: 20, retryMaxMs: 200 },
    }),
  );
  daemon = await startDaemon({ args: ["--config", config], env: { FAKE_OPENAI_KEY: "sk-test-openai", FAKE_ANTHROPIC_KEY: "sk-ant-test" } });
  client = new OpenAI({ baseURL: daemon.baseURL, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await daemon?.stop();
  await openaiCloud?.stop();
  await anthropicCloud?.stop();
});

test("a small request is answered on the device; a long one goes to the cloud; both say why", async () => {
  const before = openaiCloud.requests.length;
  const local = await client.chat.completions.create(small("Who is the shepherd?")).withResponse();
  assert.equal(local.response.headers.get("x-edged-route"), "local");
  assert.match(local.response.headers.get("x-edged-route-reason")!, /^within_budget: local predicted \d+ ms <= budget 60000 ms/);
  assert.equal(local.data.model, MODEL);
  assert.equal(openaiCloud.requests.length, before, "nothing left the device");

  const cloud = await client.chat.completions.create(big("Tell me the whole story of the exodus")).withResponse();
  assert.equal(cloud.response.headers.get("x-edged-route"), "cloud");
  assert.match(cloud.response.headers.get("x-edged-route-reason")!, /^over_budget_locally: local predicted \d+ ms > budget 1 ms/);
  assert.equal(cloud.response.headers.get("x-edged-cloud-target"), "openai-a");
  assert.equal(cloud.data.choices[0]!.message.content, "You said 8 words: Tell me the whole story of the exodus");
  assert.equal(cloud.data.model, "gpt-fake");
  assert.equal(cloud.data.usage?.completion_tokens, 12);

  const hard = await post("/v1/chat/completions", {
    ...small("Prove step by step that the square root of two is irrational, then compare three other proofs and analyse their trade-offs. Explain why each step must hold, and derive the general case for any prime."),
    max_tokens: 8,
  });
  assert.equal(hard.headers.get("x-edged-route"), "cloud");
  assert.match(hard.headers.get("x-edged-route-reason")!, /^complex_prompt: difficulty 0\.\d+ >= 0.75/);

  const generous = await client.chat.completions.create({ ...big("Tell me a story"), max_tokens: 8 }, { headers: { "x-edged-latency-budget-ms": String(DEVICE_BUDGET_MS) } }).withResponse();
  assert.equal(generous.response.headers.get("x-edged-route"), "local", "a generous budget keeps it on the device");
});

test("a cloud answer streams through the openai client chunk by chunk and ends with the usage", async () => {
  const stream = await client.chat.completions.create({ ...cloudward("Sing unto the Lord a new song"), stream: true, stream_options: { include_usage: true } });
  let text = "";
  let chunks = 0;
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    if (chunk.choices[0]?.delta.content) chunks++;
    usage = chunk.usage ?? usage;
  }
  assert.equal(text, "You said 7 words: Sing unto the Lord a new song");
  assert.ok(chunks >= 5, `streamed in pieces (${chunks})`);
  assert.equal(usage?.completion_tokens, 11);
});

test("local_only never leaves the device, whatever the budget says", async () => {
  const before = openaiCloud.requests.length + anthropicCloud.requests.length;
  const res = await client.chat.completions.create({ ...big("Keep this private"), max_tokens: 16 }, { headers: { "x-edged-privacy": "local_only" } }).withResponse();
  assert.equal(res.response.headers.get("x-edged-route"), "local");
  assert.match(res.response.headers.get("x-edged-route-reason")!, /^local_only/);
  const viaBody = await post("/v1/chat/completions", { ...big("Keep this private too"), max_tokens: 16, edged: { privacy: "local_only" } });
  assert.equal(viaBody.status, 200);
  assert.equal(viaBody.headers.get("x-edged-route"), "local");
  assert.equal(openaiCloud.requests.length + anthropicCloud.requests.length, before);
});

test("e-mail addresses, card numbers and keys are redacted before they leave, and counted; DENY keeps them home", async () => {
  const secret = "sk-proj-abcdefghijklmnopqrstuvwx123456";
  const res = await client.chat.completions.create(cloudward(`Mail jane.doe@example.com, card 4111 1111 1111 1111, key ${secret}`)).withResponse();
  assert.equal(res.response.headers.get("x-edged-route"), "cloud");
  assert.equal(res.response.headers.get("x-edged-redactions"), "3");
  const sent = JSON.stringify(openaiCloud.requests.at(-1)!.body);
  for (const leaked of ["jane.doe@example.com", "4111 1111 1111 1111", secret]) assert.ok(!sent.includes(leaked), `${leaked} left the device`);
  assert.match(sent, /\[REDACTED_EMAIL\]/);
  assert.ok(!daemon.output().includes("jane.doe"), "the log holds no redacted text");

  const before = openaiCloud.requests.length;
  const kept = await post("/v1/chat/completions", cloudward("Write to jane.doe@example.com about the harvest"), {});
  assert.equal(kept.status, 200);
  assert.equal(kept.headers.get("x-edged-route"), "cloud", "a redacting route lets it out");
  const denied = await post("/v1/chat/completions", { ...big("Write to jane.doe@example.com about the harvest"), model: "guarded" });
  assert.equal(denied.status, 200);
  assert.equal(denied.headers.get("x-edged-route"), "local");
  assert.match(denied.headers.get("x-edged-route-reason")!, /^sensitive_kept_local/);
  assert.equal(openaiCloud.requests.length, before + 1, "only the redacting route sent anything");
});

test("a failing provider falls back to the next (Anthropic, translated both ways), then to the device", async () => {
  openaiCloud.setFaults([{ status: 500 }, { status: 503 }]);
  const res = await client.chat.completions.create(cloudward("Who built the ark")).withResponse();
  assert.equal(res.response.headers.get("x-edged-cloud-target"), "anthropic-b");
  assert.match(res.response.headers.get("x-edged-fallback")!, /^anthropic-b \(openai-a: status\)/);
  assert.equal(res.data.choices[0]!.message.content, "You said 4 words: Who built the ark");
  assert.equal(res.data.model, "claude-fake");
  const sent = anthropicCloud.requests.at(-1)!;
  assert.equal(sent.path, "/v1/messages");
  assert.equal(sent.headers["x-api-key"], "sk-ant-test");

  openaiCloud.setFaults([{ status: 500 }, { status: 500 }]);
  anthropicCloud.setFaults([{ status: 529 }, { status: 529 }]);
  const fallback = await client.chat.completions.create({ ...cloudward("Who built the ark"), max_tokens: 120 }).withResponse();
  assert.equal(fallback.response.headers.get("x-edged-route"), "local");
  assert.match(fallback.response.headers.get("x-edged-fallback")!, /^local \(openai-a: status, anthropic-b: status\)/);
  assert.equal(fallback.data.model, MODEL);
});

test("a stream cut mid-answer ends in an error for the client, never a silent success", async () => {
  openaiCloud.setFaults([{ resetAfterChunks: 3 }]);
  const stream = await client.chat.completions.create({ ...cloudward("Sing unto the Lord a new song with all the earth"), stream: true });
  let text = "";
  await assert.rejects(async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  }, /broke off/);
  assert.ok(!text.includes("earth"), "the answer was not completed");
});

test("cascade: the device answers first and escalates when its first tokens are unsure", async () => {
  const escalated = await post("/v1/chat/completions", { ...small("And the earth was without form"), model: "strict", max_tokens: 12 }, { "x-edged-latency-budget-ms": String(DEVICE_BUDGET_MS) });
  assert.equal(escalated.status, 200);
  assert.equal(escalated.headers.get("x-edged-route"), "cloud");
  assert.match(escalated.headers.get("x-edged-cascade")!, /^escalated: local confidence too low: mean log-probability -?\d+\.\d+ < -0.0001/);
  assert.match(escalated.headers.get("x-edged-route-reason")!, /^low_confidence/);
  assert.equal(escalated.body.model, "gpt-fake");

  const kept = await client.chat.completions
    .create({ ...small("And the earth was without form"), model: "lenient", max_tokens: 12, stream: true }, { headers: { "x-edged-latency-budget-ms": String(DEVICE_BUDGET_MS) } })
    .withResponse();
  assert.equal(kept.response.headers.get("x-edged-route"), "local");
  assert.match(kept.response.headers.get("x-edged-cascade")!, /^kept: mean log-probability -?\d+\.\d+ >= -60/);
  let text = "";
  for await (const chunk of kept.data) text += chunk.choices[0]?.delta.content ?? "";
  assert.ok(text.length > 0);
});

test("offline: deferrable requests are queued (202, job id, idempotent) and answered once the cloud is back", async () => {
  await openaiCloud.goOffline();
  await anthropicCloud.goOffline();
  const body = big("Remember the sabbath day");
  const first = await post("/v1/chat/completions", body, { "x-edged-allow-defer": "true", "idempotency-key": "sabbath-1" });
  assert.equal(first.status, 202);
  assert.equal(first.headers.get("x-edged-route"), "queue");
  assert.equal(first.body.object, "queue.job");
  assert.equal(first.body.status, "queued");
  assert.equal(first.headers.get("location"), `/v1/queue/${first.body.id}`);
  const again = await post("/v1/chat/completions", body, { "x-edged-allow-defer": "true", "idempotency-key": "sabbath-1" });
  assert.equal(again.body.id, first.body.id, "a repeated key returns the same job");
  assert.equal((await post("/v1/chat/completions", { ...body, max_tokens: 200 }, { "x-edged-allow-defer": "true", "idempotency-key": "sabbath-1" })).status, 409);

  const direct = await post("/v1/queue", { model: MODEL, messages: [{ role: "user", content: "Honour thy father" }], max_tokens: 20 }, { "idempotency-key": "honour-1" });
  assert.equal(direct.status, 202);
  const notDeferred = await post("/v1/chat/completions", { ...big("Remember the sabbath day"), max_tokens: 120 });
  assert.equal(notDeferred.status, 200);
  assert.equal(notDeferred.headers.get("x-edged-route"), "local", "without deferral the device answers while the cloud is gone");
  assert.match(notDeferred.headers.get("x-edged-route-reason")!, /^cloud_unreachable: over_budget_locally/);

  const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
  assert.match(metrics, /edged_cloud_online 0/);
  assert.match(metrics, /edged_offline_jobs\{status="queued"\} 2/);

  await openaiCloud.goOnline();
  await anthropicCloud.goOnline();
  for (const id of [first.body.id, direct.body.id]) {
    const job = await until(`job ${id}`, async () => {
      const view = (await (await fetch(`${daemon.url}/v1/queue/${id}`)).json()) as Record<string, any>;
      return view.status === "done" ? view : undefined;
    });
    assert.equal(job.result.object, "chat.completion");
    assert.match(job.result.choices[0].message.content, /^You said \d words: (Remember the sabbath day|Honour thy father)$/);
  }
  assert.equal(openaiCloud.completedByKey.get("sabbath-1"), 1, "sent with its idempotency key, answered once");
  const list = (await (await fetch(`${daemon.url}/v1/queue?status=done`)).json()) as { data: { id: string }[] };
  assert.ok(list.data.some((j) => j.id === first.body.id));

  const cli = (...args: string[]) => run(process.execPath, [CLI, "queue", ...args, "--data-dir", daemon.dataDir]);
  assert.equal(JSON.parse((await cli("stats")).stdout).done, 2);
  const shown = JSON.parse((await cli("show", first.body.id)).stdout) as { status: string; events: { event: string }[] };
  assert.equal(shown.status, "done");
  assert.deepEqual(shown.events.map((e) => e.event).filter((e) => e === "enqueued" || e === "done"), ["enqueued", "done"]);
  await assert.rejects(cli("list", "--status", "finished"), (e: { code: number; stderr: string }) => e.code === 2 && /invalid --status: finished/.test(e.stderr));
});

test("routing metrics: decisions by reason, latency by route, breaker state per provider", async () => {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  assert.match(text, /edged_route_decisions_total\{route="local",reason="within_budget"\} \d+/);
  assert.match(text, /edged_route_decisions_total\{route="cloud",reason="over_budget_locally"\} \d+/);
  assert.match(text, /edged_route_latency_seconds_count\{route="cloud"\} \d+/);
  assert.match(text, /edged_route_budget_total\{route="local",met="(true|false)"\} \d+/);
  assert.match(text, /edged_cloud_breaker_state\{provider="openai-a"\} 0/);
  assert.match(text, /edged_redactions_total\{kind="email"\} \d+/);
  assert.match(text, /edged_cloud_calls_total\{provider="openai-a",outcome="status"\} \d+/);
  assert.match(daemon.output(), /\{"event":"route","model":"edged-kjv:q4_k_m","route":"cloud","reason":"over_budget_locally",.*"predicted_ms":\d+,"actual_ms":[\d.]+/);
});

test("bad routing input gets OpenAI errors", async () => {
  const badBudget = await post("/v1/chat/completions", small("hi"), { "x-edged-latency-budget-ms": "soon" });
  assert.equal(badBudget.status, 400);
  assert.equal(badBudget.body.error.param, "x-edged-latency-budget-ms");
  const badPrivacy = await post("/v1/chat/completions", { ...small("hi"), edged: { privacy: "secret" } });
  assert.equal(badPrivacy.status, 400);
  assert.equal(badPrivacy.body.error.param, "edged.privacy");
  const unknownField = await post("/v1/chat/completions", { ...small("hi"), edged: { budget: 5 } });
  assert.equal(unknownField.status, 400);
  assert.equal((await post("/v1/chat/completions", { ...small("hi"), model: "nope" })).status, 404);
  const streamed = await post("/v1/queue", { ...small("hi"), stream: true });
  assert.equal(streamed.status, 400);
  assert.equal(streamed.body.error.param, "stream");
  const localOnly = await post("/v1/queue", { ...small("hi"), edged: { privacy: "local_only" } });
  assert.equal(localOnly.status, 400);
  const missing = await fetch(`${daemon.url}/v1/queue/job_nope`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "job_not_found");
  const sensitive = await post("/v1/queue", { ...small("card 4111 1111 1111 1111"), model: "guarded" });
  assert.equal(sensitive.status, 403);
  assert.equal(sensitive.body.error.code, "sensitive_content");
  assert.equal((await client.chat.completions.create(small("still answering?"))).object, "chat.completion");
});
