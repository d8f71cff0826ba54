/**
 * What grows has a bound, and /metrics shows it: finished offline jobs and stored responses are purged once past
 * their retention (counted in edged_purged_total and logged), and the daemon's footprint — memory, descriptors,
 * each database file, memory's rows, stored responses, cached grammars, budget rows — is there to be watched;
 * compiled grammars stay within llama.grammarCache.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startFakeCloud, type FakeCloud } from "../fakeCloud/fakeCloud.js";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { until } from "../helpers/until.js";

const MODEL = "edged-kjv:q4_k_m";
let cloud: FakeCloud;
let daemon: RunningDaemon;

before(async () => {
  cloud = await startFakeCloud({ apiKey: "sk-house" });
  const config = join(scratchDir(), "edged.json");
  await writeFile(
    config,
    JSON.stringify({
      cloud: { providers: [{ id: "fake", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake", apiKey: "sk-house" }] },
      offline: { retention: "2s", retryBaseMs: 20, retryMaxMs: 200 },
      responses: { retention: "2s" },
      housekeeping: { interval: "500ms" },
      llama: { grammarCache: 2 },
    }),
  );
  daemon = await startDaemon({ args: ["--config", config] });
});
after(async () => {
  await daemon?.stop();
  await cloud?.stop();
});

const metrics = async () => (await fetch(`${daemon.url}/metrics`)).text();
const value = (text: string, series: string) => Number(text.split("\n").find((l) => l.startsWith(`${series} `))?.slice(series.length + 1));
const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${daemon.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

test("a finished offline job is kept for offline.retention, then purged and counted", async () => {
  const job = await post("/v1/queue", { model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "Honour thy father" }] }, { "idempotency-key": "honour-house" });
  assert.equal(job.status, 202);
  const view = `${daemon.url}/v1/queue/${job.body.id}`;
  await until("the job done", async () => (((await (await fetch(view)).json()) as { status?: string }).status === "done" ? true : undefined));
  await until("the job purged", async () => ((await fetch(view)).status === 404 ? true : undefined), 20_000);
  assert.ok(value(await metrics(), 'edged_purged_total{what="offline_jobs"}') >= 1);
  assert.match(daemon.output(), /housekeeping: \d+ offline jobs past retention removed/);
  assert.equal(value(await metrics(), 'edged_offline_jobs{status="done"}'), 0);
});

test("a stored response is kept for responses.retention, then purged; previous_response_id to it is then a 404", async () => {
  const r = await post("/v1/responses", { model: MODEL, input: "In the beginning", max_output_tokens: 4 }, { "x-edged-privacy": "local_only" });
  assert.equal(r.status, 200);
  const stored = `${daemon.url}/v1/responses/${r.body.id}`;
  assert.equal((await fetch(stored)).status, 200);
  await until("the response purged", async () => ((await fetch(stored)).status === 404 ? true : undefined), 20_000);
  assert.ok(value(await metrics(), 'edged_purged_total{what="stored_responses"}') >= 1);
  const continued = await post("/v1/responses", { model: MODEL, input: "And then", previous_response_id: r.body.id, max_output_tokens: 4 }, { "x-edged-privacy": "local_only" });
  assert.equal(continued.status, 404);
});

test("/metrics shows the footprint: process memory and descriptors, every database file, and what grows with use", async () => {
  await post("/v1/memory", { subject: "house", content: "The house is in order" });
  const text = await metrics();
  assert.ok(value(text, "process_resident_memory_bytes") > 50 * 2 ** 20);
  assert.ok(value(text, "nodejs_heap_size_used_bytes") > 0);
  assert.ok(value(text, "nodejs_heap_used_after_gc_bytes") > 0);
  assert.ok(value(text, "nodejs_external_memory_bytes") > 0);
  assert.ok(value(text, "nodejs_heap_size_total_bytes") >= value(text, "nodejs_heap_size_used_bytes"));
  if ((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime) {
    // glibc's accounting: the loaded models' buffers alone are megabytes in use, less than the process's resident size
    const inUse = value(text, "edged_malloc_in_use_bytes");
    assert.ok(inUse > 2 ** 20 && inUse < value(text, "process_resident_memory_bytes") * 4, String(inUse));
    assert.ok(value(text, "edged_malloc_held_free_bytes") >= 0);
  }
  assert.ok(value(text, "process_open_fds") > 5);
  assert.ok(value(text, "process_threads") >= 2);
  for (const file of ["memory.db", "queue.db", "usage.db", "responses.db", "memory.db-wal"]) assert.ok(value(text, `edged_data_file_bytes{file="${file}"}`) > 0, file);
  assert.ok(value(text, "edged_memory_items") >= 1);
  assert.ok(value(text, "edged_memory_audit_entries") >= 1);
  assert.equal(value(text, "edged_stored_responses"), 0);
  assert.ok(value(text, "edged_budget_usage_rows") >= 1, "the replayed job's tokens were recorded");
});

test("compiled grammars are kept up to llama.grammarCache", async () => {
  const ask = (field: string) =>
    post(
      "/v1/chat/completions",
      {
        model: MODEL,
        max_tokens: 24,
        messages: [{ role: "user", content: "Name the shepherd" }],
        response_format: { type: "json_schema", json_schema: { name: field, schema: { type: "object", properties: { [field]: { type: "string" } }, required: [field] } } },
      },
      { "x-edged-privacy": "local_only" },
    );
  for (const field of ["shepherd", "flock", "field"]) assert.equal((await ask(field)).status, 200);
  assert.equal(value(await metrics(), "edged_grammar_cache_entries"), 2);
});
