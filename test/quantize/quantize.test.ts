import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { readGgufFileInfo } from "node-llama-cpp";
import { FILE_TYPES } from "../../src/quantize/fileTypes.js";
import { quantize } from "../../src/quantize/quantizer.js";
import { CLI, scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

const run = promisify(execFile);
const dir = scratchDir();
const input = writeTinyModel(dir, "f16.gguf");

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, "quantize", ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("edged quantize writes a Q4_K_M file with k-quant tensors and reports progress", async () => {
  const out = join(dir, "q4km.gguf");
  const { code, stdout, stderr } = await cli(await input, out, "--type", "Q4_K_M");
  assert.equal(code, 0, stderr);
  assert.match(stdout, /MiB/);
  assert.match(stderr, /21\/21/); // one progress step per tensor of the 2-block model
  const info = await readGgufFileInfo(out, { readTensorInfo: true });
  assert.equal((info.metadata as any).general.file_type, FILE_TYPES.Q4_K_M!.ftype);
  const types = new Set(info.tensorInfo!.map((t) => t.ggmlType));
  assert.ok(types.has(12), "some tensors are q4_K"); // GGML_TYPE_Q4_K
  assert.ok((await stat(out)).size < (await stat(await input)).size / 2.5);
});

test("every file type llama.cpp can make without an importance matrix quantizes", async () => {
  const made: string[] = [];
  for (const [name, type] of Object.entries(FILE_TYPES)) {
    if (type.needsImatrix) continue;
    const out = join(dir, `all-${name}.gguf`);
    await quantize(await input, out, { type: name, threads: 1 });
    const info = await readGgufFileInfo(out);
    assert.equal((info.metadata as any).general.file_type, type.ftype, name);
    made.push(name);
  }
  assert.equal(made.length, Object.values(FILE_TYPES).filter((t) => !t.needsImatrix).length);
  assert.ok(made.length >= 29, `made ${made.length} types`);
});

test("types that need an importance matrix fail with llama.cpp's reason and leave nothing behind", async () => {
  const out = join(dir, "iq2.gguf");
  await assert.rejects(quantize(await input, out, { type: "IQ2_XXS" }), /requires an importance matrix/);
  await assert.rejects(stat(out));
});

test("bad input: a clear one-line error, a non-zero exit, and no output file", async () => {
  const notGguf = join(dir, "not.gguf");
  await writeFile(notGguf, "definitely not a model");
  const truncated = join(dir, "truncated.gguf");
  await writeFile(truncated, (await readFile(await input)).subarray(0, 5000));
  const locked = join(dir, "locked");
  await mkdir(locked);
  await chmod(locked, 0o500);
  const cases: [string[], RegExp, number][] = [
    [[join(dir, "missing.gguf"), join(dir, "o1.gguf"), "--type", "Q4_0"], /input file not found/, 1],
    [[notGguf, join(dir, "o2.gguf"), "--type", "Q4_0"], /not a GGUF file/, 1],
    [[truncated, join(dir, "o3.gguf"), "--type", "Q4_0"], /failed/, 1],
    [[await input, join(dir, "o4.gguf"), "--type", "Q3_X"], /unknown quantization type "Q3_X"/, 1],
    [[await input, join(dir, "no-such-dir", "o5.gguf"), "--type", "Q4_0"], /not a writable directory/, 1],
    [[await input, await input, "--type", "Q4_0"], /must not be the input/, 1],
    [[await input, join(dir, "o6.gguf")], /usage/, 2],
    [[await input, join(dir, "o7.gguf"), "--type", "Q4_0", "--threads", "zero"], /--threads/, 2],
  ];
  if (process.getuid?.() !== 0) cases.push([[await input, join(locked, "o8.gguf"), "--type", "Q4_0"], /not a writable directory/, 1]);
  for (const [args, message, exit] of cases) {
    const { code, stderr } = await cli(...args);
    assert.equal(code, exit, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
    assert.ok(stderr.trim().split("\n").at(-1)!.startsWith("edged quantize:"), stderr);
  }
  const left = (await readdir(dir)).filter((f) => /^o\d|partial/.test(f));
  assert.deepEqual(left, []);
  assert.deepEqual(await readdir(locked), []);
});
