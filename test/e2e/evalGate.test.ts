/**
 * The eval gate, on each way the local models change: a route's local model or the default chat model swapped for
 * a Q2_K quantization (by a reload, or by `edged models set-default`) is refused with the metrics that regressed
 * and nothing changes; swapped for Q8_0 (the same weights, closer to F16) it passes and is served. The gate suite
 * is the bundled suite's likelihood checks: scored, so deterministic.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { isolatedEnv, startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { CLI, MODELS, scratchDir } from "../helpers/paths.js";
import { until } from "../helpers/until.js";

const exec = promisify(execFile);
const dir = scratchDir("edged-gate-");
const dataDir = join(dir, "data");
const configFile = join(dir, "edged.json");
const suite = join(dir, "gate.jsonl");
let daemon: RunningDaemon;

const configure = (local: string, chat?: string) => writeFile(configFile, JSON.stringify({ models: { chat }, router: { routes: [{ model: "verses", local }] }, eval: { gate: { suite } } }));

before(async () => {
  const bundled = (await readFile(join(MODELS, "eval", "edged-kjv.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { checks: { type: string }[] });
  const scored = bundled.map((c) => ({ ...c, checks: c.checks.filter((k) => k.type === "loglik") })).filter((c) => c.checks.length);
  await writeFile(suite, scored.map((c) => JSON.stringify(c)).join("\n") + "\n");
  const q2 = join(dir, "kjv-q2_k.gguf");
  await exec(process.execPath, [CLI, "quantize", join(MODELS, "edged-kjv-F16.gguf"), q2, "--type", "Q2_K"], { env: isolatedEnv() });
  await exec(process.execPath, [CLI, "models", "add", q2, "--id", "damaged:q2_k", "--data-dir", dataDir], { env: isolatedEnv() });
  await configure("edged-kjv:q4_k_m");
  daemon = await startDaemon({ dataDir, args: ["--config", configFile] });
});
after(async () => {
  await daemon?.stop();
});

/** Sends SIGHUP and waits for the line that ends the reload. */
async function hangUp(): Promise<string> {
  const ends = () => daemon.output().split("\n").filter((l) => /SIGHUP: configuration (not )?reloaded/.test(l));
  const seen = ends().length;
  daemon.proc.kill("SIGHUP");
  await until("the reload's end", async () => ends()[seen], 120_000);
  return daemon.output();
}

/** The local model the route's requests are served by, from the request log. */
async function servedBy(model = "verses"): Promise<string> {
  const res = await fetch(`${daemon.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-edged-privacy": "local_only" },
    body: JSON.stringify({ model, max_tokens: 2, messages: [{ role: "user", content: "In the beginning" }] }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { model: string }).model;
}

test("a swap to a model that regresses is refused with its metrics; the route keeps its model", { timeout: 300_000 }, async () => {
  assert.equal(await servedBy(), "edged-kjv:q4_k_m");
  await configure("damaged:q2_k");
  const log = await hangUp();
  assert.match(log, /SIGHUP: configuration not reloaded, still running on the previous one: the eval gate refused damaged:q2_k as route "verses" \(in place of edged-kjv:q4_k_m; runs \d+ and \d+ of .*gate\.jsonl\): loglik -0\.\d+ \(95 % CI -0\.\d+ \.\. -0\.\d+\) past the threshold 0\.05/);
  assert.equal(await servedBy(), "edged-kjv:q4_k_m");
});

test("a swap to a model that does not regress passes the gate and is applied", { timeout: 300_000 }, async () => {
  await configure("edged-kjv:q8_0");
  const log = await hangUp();
  assert.match(log, /SIGHUP: the eval gate passed edged-kjv:q8_0 as route "verses" \(in place of edged-kjv:q4_k_m; runs \d+ and \d+ of /);
  assert.match(log, /SIGHUP: configuration reloaded: applied router\.routes/);
  assert.equal(await servedBy(), "edged-kjv:q8_0");
  // the gate's runs are stored beside any other
  const { stdout } = await exec(process.execPath, [CLI, "eval", "runs", "--data-dir", dataDir], { env: isolatedEnv() });
  assert.match(stdout, /damaged:q2_k .*24 cases/);
  assert.match(stdout, /edged-kjv:q8_0 .*24 cases/);
});

const setDefault = (model: string) => exec(process.execPath, [CLI, "models", "set-default", model, "--url", daemon.url, "--data-dir", dataDir], { env: isolatedEnv() });
const defaults = async () => (await (await fetch(`${daemon.url}/v1/defaults`)).json()) as { chat: string; chat_source: string };

test("edged models set-default: refused by the gate when the new default regresses, applied and kept across a restart when not", { timeout: 300_000 }, async () => {
  // the family's name means its default model
  assert.equal(await servedBy("edged-kjv"), "edged-kjv:q4_k_m");
  const refused = await setDefault("damaged:q2_k").then(() => assert.fail("set-default should have failed"), (e: { code: number; stderr: string }) => e);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /refused: the eval gate refused damaged:q2_k as the default chat model \(in place of edged-kjv:q4_k_m; runs \d+ and \d+ of .*\): loglik -0\.\d+/);
  assert.deepEqual(await defaults(), { chat: "edged-kjv:q4_k_m", chat_source: "bundled", embedding: "edged-embed:q4" });

  const { stdout } = await setDefault("edged-kjv:q4_0");
  assert.match(stdout, /the eval gate passed edged-kjv:q4_0 as the default chat model/);
  assert.match(stdout, /default chat model: edged-kjv:q4_0 \(was edged-kjv:q4_k_m\)/);
  assert.equal((await defaults()).chat, "edged-kjv:q4_0");
  assert.equal(await servedBy("edged-kjv"), "edged-kjv:q4_0");

  await daemon.stop();
  daemon = await startDaemon({ dataDir, args: ["--config", configFile] });
  assert.deepEqual(await defaults(), { chat: "edged-kjv:q4_0", chat_source: "stored", embedding: "edged-embed:q4" });
  const models = await exec(process.execPath, [CLI, "models", "list", "--data-dir", dataDir], { env: isolatedEnv() });
  assert.match(models.stdout, /edged-kjv:q4_0 .*\(default chat\)/);
});

test("models.chat changed by a reload goes through the gate too; while the configuration names it, set-default is refused", { timeout: 300_000 }, async () => {
  await configure("edged-kjv:q8_0", "damaged:q2_k");
  let log = await hangUp();
  assert.match(log, /configuration not reloaded, still running on the previous one: the eval gate refused damaged:q2_k as the default chat model \(in place of edged-kjv:q4_0;/);
  assert.equal((await defaults()).chat, "edged-kjv:q4_0");

  await configure("edged-kjv:q8_0", "edged-kjv:q4_k_m");
  log = await hangUp();
  assert.match(log, /configuration reloaded: applied models\.chat/);
  assert.deepEqual(await defaults(), { chat: "edged-kjv:q4_k_m", chat_source: "config", embedding: "edged-embed:q4" });
  const res = await fetch(`${daemon.url}/v1/defaults/chat`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "edged-kjv:q8_0" }) });
  assert.equal(res.status, 409);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, "default_configured");
  assert.match(body.error.message, /models\.chat sets the default chat model \(edged-kjv:q4_k_m\)/);
});

test("set-default refuses what is not a chat model here, in the API's shape", async () => {
  const put = (body: unknown) => fetch(`${daemon.url}/v1/defaults/chat`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  await configure("edged-kjv:q8_0");
  await hangUp();
  let res = await put({ model: "no-such-model" });
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, "model_not_found");
  res = await put({ model: "edged-embed:q4" });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /embedding model, not a chat model/);
  res = await put({ name: "edged-kjv:q8_0" });
  assert.equal(res.status, 400);
});
