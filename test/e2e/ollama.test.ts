/** The Ollama-compatible subset, driven by the official `ollama` npm client against the real daemon. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Ollama } from "ollama";
import { startDaemon, writeManifest, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

let daemon: RunningDaemon;
let ollama: Ollama;
const MODEL = "tiny:f16";

before(async () => {
  const dir = scratchDir();
  const path = await writeTinyModel(dir);
  const manifest = await writeManifest(dir, { id: MODEL, engine: "llama", path, quant: "F16", contextSize: 512 });
  daemon = await startDaemon({ args: ["--manifest", manifest] });
  ollama = new Ollama({ host: daemon.url });
});
after(async () => {
  await daemon.stop();
});

test("version, tags, ps and show", async () => {
  assert.match((await ollama.version()).version, /^\d+\.\d+\.\d+/);
  const tags = await ollama.list();
  assert.deepEqual(tags.models.map((m) => m.name), [MODEL]);
  assert.equal(tags.models[0]!.details.format, "gguf");
  assert.match(tags.models[0]!.digest, /^[0-9a-f]{64}$/);
  assert.deepEqual((await ollama.ps()).models.map((m) => m.name), [MODEL]);
  const show = await ollama.show({ model: MODEL });
  assert.deepEqual(show.capabilities, ["completion", "tools"]);
  assert.equal((show.model_info as unknown as Record<string, unknown>)["llama.context_length"], 512);
});

test("chat: one response, then streamed NDJSON with statistics at the end", async () => {
  const one = await ollama.chat({ model: MODEL, messages: [{ role: "user", content: "Hello" }], options: { num_predict: 5, temperature: 0 }, keep_alive: "5m" });
  assert.equal(one.message.role, "assistant");
  assert.ok(one.message.content.length > 0);
  assert.equal(one.done, true);
  assert.equal(one.eval_count, 5);
  assert.equal(one.done_reason, "length");
  assert.ok(one.prompt_eval_count > 3 && one.total_duration > 0);
  const parts = [];
  for await (const part of await ollama.chat({ model: MODEL, messages: [{ role: "user", content: "Hello" }], options: { num_predict: 5, temperature: 0 }, stream: true })) parts.push(part);
  assert.ok(parts.length >= 2);
  assert.equal(parts.at(-1)!.done, true);
  assert.equal(parts.at(-1)!.eval_count, 5);
  assert.equal(parts.map((p) => p.message.content).join(""), one.message.content, "greedy: streamed and whole agree");
});

test("generate, templated and raw, with stop sequences and seed", async () => {
  const r = await ollama.generate({ model: MODEL, prompt: "In the beginning", options: { num_predict: 6, seed: 5 } });
  assert.equal(r.eval_count, 6);
  const again = await ollama.generate({ model: MODEL, prompt: "In the beginning", options: { num_predict: 6, seed: 5 } });
  assert.equal(again.response, r.response);
  const raw = await ollama.generate({ model: MODEL, prompt: "In the beginning", raw: true, options: { num_predict: 3, temperature: 0 } });
  assert.ok(raw.prompt_eval_count < r.prompt_eval_count, "raw skips the chat template");
  const load = await ollama.generate({ model: "tiny", prompt: "" });
  assert.deepEqual([load.done, load.done_reason], [true, "load"]);
});

test("format: json is enforced by grammar", async () => {
  const r = await ollama.chat({ model: MODEL, messages: [{ role: "user", content: "JSON" }], format: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] }, options: { num_predict: 40, temperature: 0 } });
  assert.ok(Number.isInteger(JSON.parse(r.message.content).n));
});

test("errors come in Ollama's shape", async () => {
  await assert.rejects(ollama.chat({ model: "llama9", messages: [{ role: "user", content: "hi" }] }), (e: Error & { status_code?: number }) => e.status_code === 404 && /llama9/.test(e.message));
  const bad = await fetch(`${daemon.url}/api/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }], options: { temperature: "hot" } }) });
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { error: string };
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.match(body.error, /options\.temperature/);
  const unknown = await fetch(`${daemon.url}/api/push`, { method: "POST" });
  assert.equal(unknown.status, 404);
  assert.equal(typeof ((await unknown.json()) as { error: string }).error, "string");
  const keep = await fetch(`${daemon.url}/api/generate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: MODEL, prompt: "x", keep_alive: "soon" }) });
  assert.equal(keep.status, 400);
});

test("bodies are JSON whatever the Content-Type, as Ollama's curl examples send them; a foreign page's form post is refused", async () => {
  const body = JSON.stringify({ model: MODEL, prompt: "In the beginning", stream: false, options: { num_predict: 2 } });
  // what `curl -d '{…}'` sends
  const form = await fetch(`${daemon.url}/api/generate`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
  assert.equal(form.status, 200);
  assert.equal(((await form.json()) as { eval_count: number }).eval_count, 2);
  const untyped = await fetch(`${daemon.url}/api/show`, { method: "POST", body: new TextEncoder().encode(JSON.stringify({ model: MODEL })) });
  assert.equal(untyped.status, 200);
  const notJson = await fetch(`${daemon.url}/api/chat`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "model=tiny" });
  assert.equal(notJson.status, 400);
  assert.match(((await notJson.json()) as { error: string }).error, /JSON/);
  const foreign = await fetch(`${daemon.url}/api/generate`, { method: "POST", headers: { "content-type": "text/plain", origin: "https://example.com" }, body });
  assert.equal(foreign.status, 403);
  // the OpenAI surface keeps its own rule
  const openai = await fetch(`${daemon.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: JSON.stringify({ model: MODEL, messages: [] }) });
  assert.equal(openai.status, 415);
});
