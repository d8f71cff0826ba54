/** A localhost API: loopback by default, Host and Origin checks, CORS only for allowed origins, bearer keys. */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { failingServe, startDaemon, writeManifest, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

const dir = scratchDir();
let manifest: string;
let open: RunningDaemon;
const ORIGIN = "http://localhost:5173";

before(async () => {
  const path = await writeTinyModel(dir);
  manifest = await writeManifest(dir, { id: "tiny:f16", engine: "llama", path, quant: "F16", contextSize: 512 });
  open = await startDaemon({ args: ["--manifest", manifest, "--allow-origin", ORIGIN] });
});
after(async () => {
  await open.stop();
});

/** fetch() will not send a forged Host header, so this uses node:http directly. */
function raw(url: string, method: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("binds loopback by default", () => {
  assert.match(open.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test("a Host header that is not this server's is refused (DNS rebinding)", async () => {
  const evil = await raw(`${open.url}/v1/models`, "GET", { host: "attacker.example:80" });
  assert.equal(evil.status, 403);
  assert.equal(JSON.parse(evil.body).error.code, "host_not_allowed");
  for (const host of [new URL(open.url).host, `localhost:${new URL(open.url).port}`]) {
    assert.equal((await raw(`${open.url}/v1/models`, "GET", { host })).status, 200, host);
  }
});

test("browser origins: only the allow-list, with CORS headers; preflight only for allowed origins", async () => {
  const bad = await raw(`${open.url}/v1/models`, "GET", { origin: "https://evil.example" });
  assert.equal(bad.status, 403);
  assert.equal(JSON.parse(bad.body).error.code, "origin_not_allowed");
  assert.equal(bad.headers["access-control-allow-origin"], undefined);
  const good = await raw(`${open.url}/v1/models`, "GET", { origin: ORIGIN });
  assert.equal(good.status, 200);
  assert.equal(good.headers["access-control-allow-origin"], ORIGIN);
  const preflight = await raw(`${open.url}/v1/chat/completions`, "OPTIONS", {
    origin: ORIGIN,
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type, authorization",
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers["access-control-allow-origin"], ORIGIN);
  assert.match(String(preflight.headers["access-control-allow-methods"]), /POST/);
  const refused = await raw(`${open.url}/v1/chat/completions`, "OPTIONS", { origin: "https://evil.example", "access-control-request-method": "POST" });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers["access-control-allow-origin"], undefined);
});

test("with API keys: no key or a wrong key is 401, the right key works, health stays public", async () => {
  const key = "sk-edged-test-0123456789";
  const locked = await startDaemon({ args: ["--manifest", manifest], env: { EDGED_API_KEYS: key } });
  try {
    const none = await fetch(`${locked.baseURL}/models`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), "Bearer");
    assert.equal(((await none.json()) as { error: { type: string } }).error.type, "authentication_error");
    const wrong = new OpenAI({ baseURL: locked.baseURL, apiKey: "sk-wrong-key-000000000", maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (e: InstanceType<typeof OpenAI.AuthenticationError>) => e.status === 401);
    const right = new OpenAI({ baseURL: locked.baseURL, apiKey: key, maxRetries: 0 });
    assert.deepEqual((await right.models.list()).data.map((m) => m.id), ["tiny:f16"]);
    assert.equal((await fetch(`${locked.url}/health`)).status, 200);
    assert.equal((await fetch(`${locked.url}/metrics`)).status, 401);
  } finally {
    await locked.stop();
  }
});

test("binding a non-loopback address without an API key is refused at startup", async () => {
  const { code, output } = await failingServe(["--manifest", manifest, "--host", "0.0.0.0"]);
  assert.equal(code, 78);
  assert.match(output, /requires at least one API key/);
});

test("a non-loopback bind with a key serves, and still checks the Host header", async () => {
  const key = "sk-edged-test-abcdefghij";
  const wide = await startDaemon({ args: ["--manifest", manifest, "--host", "0.0.0.0", "--api-key", key], untilListening: false });
  try {
    const port = new URL(wide.url).port;
    const ok = await raw(`http://127.0.0.1:${port}/v1/models`, "GET", { authorization: `Bearer ${key}` });
    assert.equal(ok.status, 200);
    const evil = await raw(`http://127.0.0.1:${port}/v1/models`, "GET", { authorization: `Bearer ${key}`, host: "attacker.example" });
    assert.equal(evil.status, 403);
  } finally {
    await wide.stop();
  }
});
