/**
 * Slots, the bounded queue, disconnects, deadlines and shutdown, on a slow random-weight model whose greedy
 * output runs to the end of its context, so every generation here lasts seconds unless something stops it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startDaemon, writeManifest, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { TINY, writeTinyModel } from "../helpers/syntheticModel.js";

const dir = scratchDir();
let manifest: string;
let daemon: RunningDaemon;
const MODEL = "slow:f16";
const LONG = { model: MODEL, prompt: "In the beginning", max_tokens: 4000, temperature: 0 };

before(async () => {
  const path = await writeTinyModel(dir, "slow.gguf", { ...TINY, embeddingLength: 512, feedForwardLength: 1536, blockCount: 8, headCount: 8, headCountKv: 8, contextLength: 2048 });
  manifest = await writeManifest(dir, { id: MODEL, engine: "llama", path, quant: "F16", contextSize: 2048 });
  daemon = await startDaemon({ args: ["--manifest", manifest, "--slots", "2"], env: { EDGED_CONFIG: await config({ queue: { maxWaiting: 1 } }) } });
});
after(async () => {
  await daemon.stop();
  if (process.env.EDGED_TEST_LOG) console.error(daemon.output());
});

async function config(values: object): Promise<string> {
  const { writeFile } = await import("node:fs/promises");
  const file = `${dir}/config-${Math.random().toString(36).slice(2)}.json`;
  await writeFile(file, JSON.stringify(values));
  return file;
}

function start(body: object, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = fetch(`${daemon.baseURL}/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  response.catch(() => undefined);
  return { response, abort: () => controller.abort() };
}

/** A gauge summed over its device lanes. */
async function gauge(name: string): Promise<number> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}\\{device="\\w+"\\} (\\d+)$`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
}

async function until(what: () => Promise<boolean>, label: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${label}`);
}

test("beyond the slots requests wait in a bounded queue; beyond the bound they get 429 with Retry-After", async () => {
  const a = start({ ...LONG, stream: true });
  const b = start({ ...LONG, stream: true });
  assert.equal((await a.response).status, 200);
  assert.equal((await b.response).status, 200);
  const c = start({ ...LONG, stream: true });
  await until(async () => (await gauge("edged_queue_depth")) === 1, "the third request to queue");
  const d = await fetch(`${daemon.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(LONG) });
  assert.equal(d.status, 429);
  assert.ok(Number(d.headers.get("retry-after")) >= 1);
  const error = ((await d.json()) as { error: { code: string; type: string } }).error;
  assert.equal(error.code, "queue_full");
  assert.equal(error.type, "rate_limit_error");
  for (const r of [a, b, c]) r.abort();
  await until(async () => (await gauge("edged_slots_busy")) === 0 && (await gauge("edged_queue_depth")) === 0, "slots to free");
});

test("a client that disconnects mid-stream frees its slot at once for a waiting request", async () => {
  const a = start({ ...LONG, stream: true });
  const b = start({ ...LONG, stream: true });
  const streamA = (await a.response).body!.getReader();
  await streamA.read(); // generation is under way
  await b.response;
  const waiting = start({ ...LONG, stream: true });
  await until(async () => (await gauge("edged_queue_depth")) === 1, "a request to wait");
  a.abort();
  const admitted = await waiting.response; // headers arrive when the request gets a slot
  assert.equal(admitted.status, 200);
  const readerB = (await b.response).body!.getReader();
  const next = await readerB.read();
  assert.equal(next.done, false, "the other stream is still generating: the slot came from the disconnect, not from a finished generation");
  b.abort();
  waiting.abort();
  await until(async () => (await gauge("edged_slots_busy")) === 0, "slots to free");
});

test("a deadline that passes during generation aborts it with 504 deadline_exceeded (header or body)", async () => {
  const viaHeader = await fetch(`${daemon.baseURL}/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-edged-deadline-ms": "300" },
    body: JSON.stringify(LONG),
  });
  assert.equal(viaHeader.status, 504);
  const e = ((await viaHeader.json()) as { error: { code: string; type: string; message: string } }).error;
  assert.equal(e.code, "deadline_exceeded");
  assert.equal(e.type, "timeout_error");
  assert.match(e.message, /300 ms/);
  const viaBody = await fetch(`${daemon.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "go on" }], max_tokens: 4000, temperature: 0, deadline_ms: 300 }),
  });
  assert.equal(viaBody.status, 504);
  const bad = await fetch(`${daemon.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json", "x-edged-deadline-ms": "soon" }, body: JSON.stringify(LONG) });
  assert.equal(bad.status, 400);
  await until(async () => (await gauge("edged_slots_busy")) === 0, "slots to free");
});

test("a streamed request whose deadline passes ends with an error event", async () => {
  const res = await fetch(`${daemon.baseURL}/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-edged-deadline-ms": "400" },
    body: JSON.stringify({ ...LONG, stream: true }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  const last = text.trim().split("\n\n").at(-1)!;
  assert.equal(JSON.parse(last.replace(/^data: /, "")).error.code, "deadline_exceeded");
  assert.ok(!text.includes("[DONE]"));
});

test("a request whose deadline cannot be met is refused at admission with 429 deadline_unreachable", async () => {
  // one finished request teaches the lane how long a request holds a slot
  const done = await fetch(`${daemon.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...LONG, max_tokens: 200 }) });
  assert.equal(done.status, 200);
  const a = start({ ...LONG, stream: true });
  const b = start({ ...LONG, stream: true });
  await a.response;
  await b.response;
  const refused = await fetch(`${daemon.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json", "x-edged-deadline-ms": "50" }, body: JSON.stringify(LONG) });
  assert.equal(refused.status, 429);
  const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
  assert.equal(error.code, "deadline_unreachable");
  assert.match(error.message, /would start in about \d+ ms/);
  assert.equal(await gauge("edged_queue_depth"), 0, "it never queued");
  const badPriority = await fetch(`${daemon.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json", "x-edged-priority": "urgent" }, body: JSON.stringify(LONG) });
  assert.equal(badPriority.status, 400);
  a.abort();
  b.abort();
  await until(async () => (await gauge("edged_slots_busy")) === 0, "slots to free");
});

test("SIGTERM with streams in flight: they end cleanly and the process exits well within a service's stop timeout", async () => {
  const own = await startDaemon({ args: ["--manifest", manifest, "--slots", "2"] });
  const res = await fetch(`${own.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...LONG, stream: true }) });
  const reader = res.body!.getReader();
  await reader.read();
  const body = (async () => {
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += Buffer.from(value).toString();
    }
  })();
  const { code, ms } = await own.stop("SIGTERM");
  assert.equal(code, 0);
  // the stream would run for seconds more: it was cut (shutting_down below), and the exit took the grace period
  // (1.2 s) plus a little, far inside the 30 s a service manager waits (the bound leaves room for a busy machine)
  assert.ok(ms < 10_000, `took ${ms} ms to exit`);
  assert.match(await body, /shutting_down/);
  assert.match(own.output(), /stopped/);
});
