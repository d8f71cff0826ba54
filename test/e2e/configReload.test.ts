/**
 * Changing the configuration of a running daemon: a file changed to something invalid is never taken (the daemon
 * keeps serving on what it has, and SIGHUP says why the new one is refused); a valid one is taken on SIGHUP, live
 * for API keys and the router's policy, with everything that needs a restart named as waiting for one.
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
const file = join(scratchDir(), "edged.json");
let daemon: RunningDaemon;
let cloud: FakeCloud;

/** Writes the config file; every version keeps the same cloud provider, so the router's changes apply live. */
const configure = (settings: Record<string, unknown>) =>
  writeFile(file, JSON.stringify({ cloud: { providers: [{ id: "fake", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake", apiKey: "sk-fake" }] }, ...settings }));

before(async () => {
  cloud = await startFakeCloud({ apiKey: "sk-fake" });
  await configure({ router: { defaultBudgetMs: 50 } });
  daemon = await startDaemon({ args: ["--config", file] });
});
after(async () => {
  await daemon?.stop();
  await cloud?.stop();
});

async function chat(key?: string) {
  const res = await fetch(`${daemon.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model: MODEL, max_tokens: 2, messages: [{ role: "user", content: "Who is the shepherd?" }] }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Sends SIGHUP and waits for the daemon's answer to it in its log. */
async function hangUp(): Promise<string> {
  const seen = daemon.output().split("\n").filter((l) => l.includes("SIGHUP")).length;
  daemon.proc.kill("SIGHUP");
  return until("the SIGHUP answer", async () => daemon.output().split("\n").filter((l) => l.includes("SIGHUP"))[seen]);
}

test("an invalid file is refused on SIGHUP with the reason, and the daemon keeps serving on its configuration", async () => {
  await configure({ router: { defaultBudgetMs: "soon" }, security: { apiKeys: ["sk-never"] } });
  assert.match(await hangUp(), /SIGHUP: configuration not reloaded, still running on the previous one: invalid configuration: router\.defaultBudgetMs: .* \(from config file /);
  assert.equal((await chat()).status, 200, "no key was taken from the refused file");

  await writeFile(file, '{"router": {');
  assert.match(await hangUp(), /configuration not reloaded.*is not valid JSON/);
  await configure({ llama: { slots: "many" } });
  assert.match(await hangUp(), /configuration not reloaded.*invalid configuration: llama\.slots/);
  assert.equal((await chat()).status, 200);
  assert.equal(daemon.proc.exitCode, null, "still running");
});

test("a valid file is taken on SIGHUP: keys and the router's policy at once, the rest named as waiting for a restart", async () => {
  await configure({ router: { defaultBudgetMs: 60_000 }, security: { apiKeys: ["sk-reloaded"] }, llama: { slots: 2 } });
  const line = await hangUp();
  assert.match(line, /SIGHUP: configuration reloaded: applied security\.apiKeys, router\.defaultBudgetMs; waiting for a restart: llama\.slots/);
  const refused = await chat();
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error.code, "invalid_api_key");
  const allowed = await fetch(`${daemon.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-reloaded", "x-edged-privacy": "local_only" },
    body: JSON.stringify({ model: MODEL, max_tokens: 2, messages: [{ role: "user", content: "Who is the shepherd?" }] }),
  });
  assert.equal(allowed.status, 200);
  assert.match(allowed.headers.get("x-edged-route-reason")!, /^local_only/);

  // the new default budget is the router's: a request naming none is judged against it
  const routed = await fetch(`${daemon.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-reloaded" },
    body: JSON.stringify({ model: MODEL, max_tokens: 2, messages: [{ role: "user", content: "Who is the shepherd?" }] }),
  });
  assert.equal(routed.status, 200);
  assert.match(routed.headers.get("x-edged-route-reason")!, /^within_budget: local predicted \d+ ms <= budget 60000 ms/);

  // the same file again changes nothing
  assert.match(await hangUp(), /configuration reloaded: nothing changed that applies while running; waiting for a restart: llama\.slots/);
});
