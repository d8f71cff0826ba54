/** Every kind of bad request gets OpenAI's error shape with the right status, and the daemon keeps serving. */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { startDaemon, writeManifest, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { TINY, writeTinyModel } from "../helpers/syntheticModel.js";

const dir = scratchDir();
let daemon: RunningDaemon;
const MODEL = "tiny:f16";

before(async () => {
  const path = await writeTinyModel(dir, "tiny.gguf", { ...TINY, contextLength: 256 });
  const manifest = await writeManifest(dir, { id: MODEL, engine: "llama", path, quant: "F16", contextSize: 256 });
  daemon = await startDaemon({ args: ["--manifest", manifest, "--slots", "2"] });
});
after(async () => {
  await daemon.stop();
});

interface Reply {
  status: number;
  headers: Headers;
  body: { error?: { message: string; type: string; param: string | null; code: string | null } };
}

async function call(path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`${daemon.url}${path}`, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Reply["body"] };
}
const post = (path: string, body: string, type = "application/json") => call(path, { method: "POST", headers: { "content-type": type }, body });
const chat = (body: object) => post("/v1/chat/completions", JSON.stringify(body));

function assertError(r: Reply, status: number, code: string | null, param?: string | null): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  const e = r.body.error!;
  assert.deepEqual(Object.keys(e).sort(), ["code", "message", "param", "type"]);
  assert.ok(e.message.length > 10);
  assert.equal(typeof e.type, "string");
  assert.equal(e.code, code);
  if (param !== undefined) assert.equal(e.param, param);
}

test("malformed JSON, wrong or missing content type, empty body", async () => {
  assertError(await post("/v1/chat/completions", '{"model": "tiny:f16", "messages": ['), 400, "invalid_json");
  assertError(await post("/v1/chat/completions", JSON.stringify({ model: MODEL }), "text/plain"), 415, "unsupported_media_type");
  assertError(await call("/v1/chat/completions", { method: "POST", body: "{}" }), 415, "unsupported_media_type");
  assertError(await post("/v1/chat/completions", ""), 400, "invalid_json");
});

test("a body over the limit is refused with 413, declared or streamed", async () => {
  const huge = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "x".repeat(2 * 1024 * 1024) }] });
  assertError(await post("/v1/chat/completions", huge), 413, "request_too_large");
  // no Content-Length: the limit is enforced while reading a chunked body
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${daemon.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on("error", reject);
    for (let i = 0; i < 40; i++) req.write("x".repeat(64 * 1024));
    req.end();
  });
  assert.equal(status, 413);
});

test("schema violations name the parameter", async () => {
  const messages = [{ role: "user", content: "hi" }];
  assertError(await chat({ model: MODEL }), 400, "invalid_value", "messages");
  assertError(await chat({ model: MODEL, messages: [] }), 400, "invalid_value", "messages");
  assertError(await chat({ model: MODEL, messages: [{ role: "wizard", content: "hi" }] }), 400, "invalid_value", "messages.0.role");
  assertError(await chat({ model: MODEL, messages, temperature: "hot" }), 400, "invalid_value", "temperature");
  assertError(await chat({ model: MODEL, messages, temperature: 3 }), 400, "invalid_value", "temperature");
  assertError(await chat({ model: MODEL, messages, max_tokens: 0 }), 400, "invalid_value", "max_tokens");
  assertError(await chat({ model: MODEL, messages, max_tokens: 1.5 }), 400, "invalid_value", "max_tokens");
  assertError(await chat({ model: MODEL, messages, n: 3 }), 400, "invalid_value", "n");
  assertError(await chat({ model: MODEL, messages, stop: ["a", "b", "c", "d", "e"] }), 400, "invalid_value", "stop");
  assertError(await chat({ model: MODEL, messages, response_format: { type: "yaml" } }), 400, "invalid_value", "response_format.type");
  assertError(await chat({ model: 42, messages }), 400, "invalid_value", "model");
  assertError(await post("/v1/embeddings", JSON.stringify({ model: MODEL, input: [] })), 400, "invalid_value", "input");
  assertError(await post("/v1/completions", JSON.stringify({ model: MODEL, prompt: "hi", max_tokens: -1 })), 400, "invalid_value", "max_tokens");
});

test("unknown model is 404 model_not_found", async () => {
  assertError(await chat({ model: "gpt-9", messages: [{ role: "user", content: "hi" }] }), 404, "model_not_found", "model");
  assertError(await call("/v1/models/gpt-9"), 404, "model_not_found");
  assertError(await post("/v1/embeddings", JSON.stringify({ model: MODEL, input: "hi" })), 400, "invalid_value", "model"); // a chat model
});

test("a prompt longer than the context is 400 context_length_exceeded", async () => {
  const long = "And the LORD spake unto Moses, saying, ".repeat(60);
  assertError(await chat({ model: MODEL, messages: [{ role: "user", content: long }] }), 400, "context_length_exceeded", "messages");
  assertError(await post("/v1/completions", JSON.stringify({ model: MODEL, prompt: long })), 400, "context_length_exceeded", "prompt");
});

test("an unsupported json schema is 400 on response_format", async () => {
  const r = await chat({
    model: MODEL,
    messages: [{ role: "user", content: "hi" }],
    response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", properties: { a: { type: "no-such-type" } } } } },
  });
  assertError(r, 400, "invalid_value", "response_format.json_schema.schema");
});

test("unknown route 404, wrong method 405 with Allow", async () => {
  assertError(await call("/v1/engines"), 404, "unknown_url");
  assertError(await call("/v2/anything"), 404, "unknown_url"); // "/" is the console (test/console/)
  const r = await call("/v1/chat/completions");
  assertError(r, 405, "method_not_allowed");
  assert.equal(r.headers.get("allow"), "POST");
  assertError(await call("/v1/models", { method: "DELETE" }), 405, "method_not_allowed");
});

test("after all of that the daemon still answers a valid request", async () => {
  const client = new OpenAI({ baseURL: daemon.baseURL, apiKey: "x", maxRetries: 0 });
  const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 3 });
  assert.equal(r.usage!.completion_tokens, 3);
  const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
  assert.match(metrics, /status="400"/);
  assert.match(metrics, /status="413"/);
});

test("GET /v1/hardware returns the probed inventory", async () => {
  const { cpus } = await import("node:os");
  const res = await fetch(`${daemon.baseURL}/hardware`);
  assert.equal(res.status, 200);
  const inv = (await res.json()) as { cpu: { logicalCores: number; simd: string[] }; gpus: unknown[]; npus: unknown[]; onnxProviders: { name: string }[] };
  assert.equal(inv.cpu.logicalCores, cpus().length);
  assert.ok(Array.isArray(inv.gpus) && Array.isArray(inv.npus));
  assert.ok(inv.onnxProviders.some((p) => p.name === "cpu"));
});
