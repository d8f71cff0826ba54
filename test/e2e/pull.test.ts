/**
 * `edged pull` against a loopback hub that speaks the Hugging Face hub's protocol: the quantization asked for (Q4_K_M
 * by default), a dropped connection resumed with Range, the hub's sha256 checked, a gated repository and its token,
 * and a hub that cannot be reached. Nothing half-downloaded is left behind.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { quantize } from "../../src/quantize/quantizer.js";
import { startFakeHub, type FakeHub } from "../fakeHub/fakeHub.js";
import { isolatedEnv } from "../helpers/daemon.js";
import { CLI, scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

const run = promisify(execFile);
let hub: FakeHub;
let files: Record<string, Buffer>;
const dataDir = scratchDir("edged-pull-");
let config: string;

before(async () => {
  const dir = scratchDir();
  const f16 = await writeTinyModel(dir, "tiny-f16.gguf");
  await quantize(f16, join(dir, "q4km.gguf"), { type: "Q4_K_M", threads: 1 });
  await quantize(f16, join(dir, "q8.gguf"), { type: "Q8_0", threads: 1 });
  files = { "Tiny-Psalm-Q4_K_M.gguf": await readFile(join(dir, "q4km.gguf")), "Tiny-Psalm-Q8_0.gguf": await readFile(join(dir, "q8.gguf")), "README.md": Buffer.from("# tiny psalm\n") };
  hub = await startFakeHub({ "psalms/tiny-psalm-GGUF": { files }, "levites/gated-GGUF": { files: { "Gated-Q4_K_M.gguf": await readFile(f16) }, token: "hf_levite" } });
  config = join(dir, "edged.json");
  await (await import("node:fs/promises")).writeFile(config, JSON.stringify({ models: { hubUrl: hub.url } }));
});
after(async () => {
  await hub?.stop();
});

const edged = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [CLI, ...args, "--data-dir", dataDir, "--config", config], { env: { ...isolatedEnv(), ...env } });
const fails = (args: string[], env: Record<string, string> = {}) =>
  edged(args, env).then(
    (r) => assert.fail(`succeeded: ${r.stdout}`),
    (e: { code: number; stderr: string }) => e,
  );
const leftovers = async () => [...(await readdir(join(dataDir, "models", ".partial")))];

test("pull picks Q4_K_M by default, resumes a dropped download with Range, and checks the hub's sha256", async () => {
  hub.dropAfter("Tiny-Psalm-Q4_K_M.gguf", 300_000);
  const { stdout } = await edged(["pull", "psalms/tiny-psalm-GGUF"]);
  assert.match(stdout, /^pulled hf\.co\/psalms\/tiny-psalm-gguf:q4_k_m \(Q4_K_M, [\d.]+ MiB\)/);
  const cdn = hub.requests.filter((r) => r.server === "cdn");
  // the hub drops the connection after 300,000 bytes; what was still in flight then is lost, so the client resumes
  // from the last byte it wrote, which may be a little before
  const resumedAt = cdn.flatMap((r) => /^bytes=(\d+)-$/.exec(r.range ?? "")?.[1] ?? []).map(Number);
  assert.ok(resumedAt.length === 1 && resumedAt[0]! > 0 && resumedAt[0]! <= 300_000, `resumed from the byte it had: ${JSON.stringify(cdn.map((r) => r.range))}`);
  assert.ok(cdn.every((r) => r.authorization === undefined), "no token leaves the hub's host");
  assert.deepEqual(await leftovers(), []);
  const { stdout: list } = await edged(["models", "list"]);
  assert.match(list, /^hf\.co\/psalms\/tiny-psalm-gguf:q4_k_m +llama +Q4_K_M .* hub /m);
  const verify = await edged(["models", "verify", "hf.co/psalms/tiny-psalm-gguf:q4_k_m"]);
  assert.match(verify.stdout, /^ok/);
  const again = await edged(["pull", "hf.co/psalms/tiny-psalm-GGUF:Q4_K_M"]);
  assert.match(again.stdout, /is already pulled/);
});

test("pull of another quantization, of a named file, and of a quantization the repository lacks", async () => {
  assert.match((await edged(["pull", "psalms/tiny-psalm-GGUF:Q8_0"])).stdout, /^pulled hf\.co\/psalms\/tiny-psalm-gguf:q8_0 \(Q8_0/);
  const missing = await fails(["pull", "psalms/tiny-psalm-GGUF:Q2_K"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /has no Q2_K file \(available: Q4_K_M, Q8_0\)/);
  const unknownRepo = await fails(["pull", "psalms/nothing-here"]);
  assert.match(unknownRepo.stderr, /repository psalms\/nothing-here: not found/);
});

test("a download whose bytes do not match the hub's sha256 is refused and nothing is kept", async () => {
  hub.corrupt("Tiny-Psalm-Q8_0.gguf");
  await edged(["models", "rm", "hf.co/psalms/tiny-psalm-gguf:q8_0"]);
  const e = await fails(["pull", "psalms/tiny-psalm-GGUF:Q8_0"]);
  assert.match(e.stderr, /sha256 of the download is [0-9a-f]{64}, the hub says [0-9a-f]{64}; nothing was kept/);
  assert.deepEqual(await leftovers(), []);
  assert.doesNotMatch((await edged(["models", "list"])).stdout, /tiny-psalm-gguf:q8_0/);
});

test("a gated repository needs HF_TOKEN, which is sent to the hub", async () => {
  const refused = await fails(["pull", "levites/gated-GGUF"]);
  assert.match(refused.stderr, /401 Access to model levites\/gated-GGUF is restricted.*set HF_TOKEN/);
  const { stdout } = await edged(["pull", "levites/gated-GGUF"], { HF_TOKEN: "hf_levite" });
  assert.match(stdout, /^pulled hf\.co\/levites\/gated-gguf:q4_k_m/);
  assert.ok(hub.requests.some((r) => r.server === "hub" && r.authorization === "Bearer hf_levite"));
});

test("with the hub unreachable, pull fails at once with a clear message", async () => {
  const closed = await startFakeHub({});
  const url = closed.url;
  await closed.stop();
  const offline = join(scratchDir(), "offline.json");
  await (await import("node:fs/promises")).writeFile(offline, JSON.stringify({ models: { hubUrl: url } }));
  const e = await run(process.execPath, [CLI, "pull", "psalms/tiny-psalm-GGUF", "--data-dir", dataDir, "--config", offline], { env: isolatedEnv() }).then(
    () => assert.fail("pulled from nowhere"),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(e.code, 1);
  assert.match(e.stderr, /cannot reach the hub at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): edged is offline, or models\.hubUrl is wrong/);
  const usage = await fails(["pull", "not a repo"]);
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /names no repository/);
});
