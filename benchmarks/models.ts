/**
 * Bring-your-own-model costs, on synthetic models of realistic size:
 * - hashing: edged's sha256 of a 1 GB GGUF against `sha256sum` on the same file, interleaved;
 * - adding that file in place: bytes copied and how much the data directory grows;
 * - startup: `edged serve` until ready with 50 registered models (several GB, hashes cached) against none.
 * Usage: npm run bench:models [-- --models 50 --rounds 3]
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFile, mkdir, readdir, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../src/config/load.js";
import { llamaRuntime } from "../src/engines/llama/runtime.js";
import { probe } from "../src/hardware/probe.js";
import { liveSources } from "../src/hardware/sources.js";
import { addModel } from "../src/models/addModel.js";
import { sha256OfFile } from "../src/models/fileHash.js";
import { openCatalog } from "../src/models/openCatalog.js";
import { fitCheck } from "../src/scheduler/fitCheck.js";
import { ROOT, resultsPath } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { median } from "./harness/stats.js";
import { SYNTHETIC_DIR, syntheticModel } from "./harness/syntheticModels.js";
import { fixed, formatTable } from "../src/report/table.js";

const MiB = 2 ** 20;

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const item of await readdir(dir, { withFileTypes: true, recursive: true })) if (item.isFile()) total += (await stat(join(item.parentPath, item.name))).size;
  return total;
}

async function timed<T>(work: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

/** Milliseconds from spawning `edged serve` to its "ready" line. */
async function startupMs(dataDir: string): Promise<number> {
  const started = performance.now();
  const proc = spawn(process.execPath, ["dist/src/cli/edged.cjs", "serve", "--port", "0", "--data-dir", dataDir], { cwd: ROOT, env: { ...process.env, EDGED_CONFIG: "" } });
  let out = "";
  const ready = await new Promise<number>((resolve, reject) => {
    proc.stdout.on("data", (d: Buffer) => {
      out += d;
      if (/edged ready:/.test(out)) resolve(performance.now() - started);
    });
    proc.stderr.on("data", (d: Buffer) => (out += d));
    proc.on("exit", () => reject(new Error(`the daemon exited:\n${out}`)));
  });
  await new Promise((resolve) => (proc.once("exit", resolve), proc.kill("SIGTERM")));
  return ready;
}

export async function runModelsBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { models: { type: "string", default: "50" }, rounds: { type: "string", default: "3" } } });
  const count = Number(values.models);
  const rounds = Number(values.rounds);
  const big = await syntheticModel("500m", "F16");
  const unit = await syntheticModel("140m", "Q4_K_M");
  const work = join(ROOT, ".cache", "bench-models");
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });

  // hashing, interleaved so both see the same page cache and load
  await sha256OfFile(big);
  const hashing = { edgedMs: [] as number[], sha256sumMs: [] as number[], opensslMs: [] as number[] };
  let agree = true;
  for (let r = 0; r < rounds; r++) {
    const ours = await timed(() => sha256OfFile(big));
    const theirs = await timed(() => execFileSync("sha256sum", [big], { encoding: "utf8" }).split(" ")[0]);
    // OpenSSL's SHA-256 (SHA-NI where the CPU has it) is the fastest one a user is likely to have
    const openssl = await timed(() => execFileSync("openssl", ["dgst", "-sha256", "-r", big], { encoding: "utf8" }).split(" ")[0]);
    agree &&= ours.value === theirs.value && ours.value === openssl.value;
    hashing.edgedMs.push(ours.ms);
    hashing.sha256sumMs.push(theirs.ms);
    hashing.opensslMs.push(openssl.ms);
  }
  const bytes = (await stat(big)).size;

  // add in place
  const addDir = join(work, "add");
  execFileSync(process.execPath, ["dist/src/cli/edged.cjs", "models", "list", "--data-dir", addDir], { cwd: ROOT }); // creates the empty store
  const grownFrom = await sizeOf(addDir);
  const add = await timed(() => execFileSync(process.execPath, ["dist/src/cli/edged.cjs", "models", "add", big, "--id", "big:f16", "--data-dir", addDir], { cwd: ROOT, encoding: "utf8" }));
  const grown = (await sizeOf(addDir)) - grownFrom;
  const copied = await sizeOf(join(addDir, "models", "blobs"));

  // 50 registered models, each its own file (hashed once, at add)
  const fifty = join(SYNTHETIC_DIR, "fifty");
  await mkdir(fifty, { recursive: true });
  const many = join(work, "many");
  const config = await loadConfig({ flags: { dataDir: many }, env: {} });
  const catalog = await openCatalog(config, llamaRuntime);
  const llama = await llamaRuntime();
  const place = fitCheck(config, llama, await probe(liveSources()));
  let total = 0;
  for (let i = 0; i < count; i++) {
    const file = join(fifty, `model-${String(i).padStart(2, "0")}.Q4_K_M.gguf`);
    if (!(await stat(file).then((s) => s.size > 0, () => false))) await copyFile(unit, file);
    await addModel({ file, id: `bench-${i}:q4_k_m` }, { catalog, user: catalog.user!, llama, place });
    total += (await stat(file)).size;
  }
  catalog.user!.close();
  const empty = join(work, "empty");
  const startup = { emptyMs: [] as number[], manyMs: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    startup.emptyMs.push(await startupMs(empty));
    startup.manyMs.push(await startupMs(many));
  }

  const rate = (ms: number[]) => bytes / MiB / (median(ms) / 1000);
  const result = {
    ...reportHeader("models"),
    hashing: { file: basename(big), bytes, agree, ...hashing, edgedMiBps: rate(hashing.edgedMs), sha256sumMiBps: rate(hashing.sha256sumMs), opensslMiBps: rate(hashing.opensslMs), ratio: median(hashing.sha256sumMs) / median(hashing.edgedMs) },
    addInPlace: { bytes, ms: add.ms, bytesCopied: copied, dataDirGrowthBytes: grown },
    startup: { models: count, totalBytes: total, ...startup, emptyMedianMs: median(startup.emptyMs), manyMedianMs: median(startup.manyMs), addedMs: median(startup.manyMs) - median(startup.emptyMs) },
  };
  await writeJson(resultsPath("models", "json"), result);
  const rows: [string, string][] = [
    ["sha256 of a 1 GB GGUF: edged, MiB/s", fixed(result.hashing.edgedMiBps, 0)],
    ["sha256 of the same file: sha256sum, MiB/s", fixed(result.hashing.sha256sumMiBps, 0)],
    ["sha256 of the same file: openssl dgst, MiB/s", fixed(result.hashing.opensslMiBps, 0)],
    ["edged / sha256sum speed (target >= 0.80)", fixed(result.hashing.ratio, 2)],
    ["hashes agree", String(agree)],
    ["add a 1 GB GGUF in place: bytes copied", String(copied)],
    ["... data directory growth, bytes (target < 1 MB)", String(grown)],
    ["... seconds (hashing included)", fixed(add.ms / 1000, 1)],
    [`startup to ready, no registered models, ms`, fixed(result.startup.emptyMedianMs, 0)],
    [`startup to ready, ${count} registered (${(total / 2 ** 30).toFixed(1)} GiB), ms`, fixed(result.startup.manyMedianMs, 0)],
    ["... added by the registered models, ms (target < 2000)", fixed(result.startup.addedMs, 0)],
  ];
  console.log(formatTable([{ header: "what", value: (r: [string, string]) => r[0], align: "left" }, { header: "value", value: (r) => r[1] }], rows));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runModelsBench(process.argv.slice(2));
