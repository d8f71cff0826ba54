/** A model file that does not match the manifest is refused: by `edged models verify` and by the daemon. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { open } from "node:fs/promises";
import { test } from "node:test";
import { promisify } from "node:util";
import { failingServe, isolatedEnv, writeManifest } from "../helpers/daemon.js";
import { CLI, scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

const run = promisify(execFile);

test("a tampered model file fails verification and the daemon will not serve it", async () => {
  const dir = scratchDir();
  const path = await writeTinyModel(dir);
  const manifest = await writeManifest(dir, { id: "tiny:f16", engine: "llama", path, quant: "F16", contextSize: 512 });
  const ok = await run(process.execPath, [CLI, "models", "verify", "--manifest", manifest, "--data-dir", dir], { env: isolatedEnv() });
  assert.match(ok.stdout, /^ok\s+tiny:f16/m);

  const file = await open(path, "r+");
  await file.write(Buffer.from([0x42]), 0, 1, 4096); // one byte inside the weights, same size
  await file.close();

  await assert.rejects(run(process.execPath, [CLI, "models", "verify", "--manifest", manifest, "--data-dir", dir], { env: isolatedEnv() }), (e: { code: number; stdout: string }) => {
    assert.equal(e.code, 1);
    assert.match(e.stdout, /BAD \(sha256 of .* the manifest says [0-9a-f]{64}\) tiny:f16/);
    return true;
  });
  const { code, output } = await failingServe(["--manifest", manifest]);
  assert.equal(code, 78, "a restart cannot fix it (EX_CONFIG)");
  assert.match(output, /edged serve: model tiny:f16 could not be loaded: sha256 of .*tiny\.gguf is [0-9a-f]{64}, the manifest says [0-9a-f]{64}/);
});

test("the bundled manifest is valid and every bundled file matches it", async () => {
  const options = { env: isolatedEnv() };
  const dataDir = scratchDir();
  const { stdout } = await run(process.execPath, [CLI, "models", "verify", "--data-dir", dataDir], options);
  const lines = stdout.trim().split("\n");
  assert.ok(lines.length >= 6, stdout);
  assert.ok(lines.every((l) => l.startsWith("ok")), stdout);
  const listed = await run(process.execPath, [CLI, "models", "list", "--data-dir", dataDir], options);
  assert.match(listed.stdout, /^edged-kjv:q4_k_m .* bundled .*\(default chat\)$/m);
});
