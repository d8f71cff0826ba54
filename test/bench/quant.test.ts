import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { argmax, klDivergence, logSoftmax, NotEnoughTokensError, planChunks } from "../../benchmarks/quant/perplexity.js";
import { QuantReport } from "../../benchmarks/quant/schema.js";
import { CLI, MODELS, scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

const run = promisify(execFile);
const dir = scratchDir("edged-bench-");

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, "bench", ...args], { maxBuffer: 16 * 2 ** 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Deterministic word salad: enough tokens for a few perplexity chunks, no bundled data needed. */
function sampleText(words: number): string {
  const vocabulary = "and the of to in that he shall unto for i his a lord they be is him not them it with all thou was god which my me said but ye their have".split(" ");
  let seed = 12345;
  return Array.from({ length: words }, () => vocabulary[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % vocabulary.length]).join(" ") + ".\n";
}

/** Every start tag closed in order: enough to catch a malformed document without an XML parser. */
function assertBalancedXml(svg: string): void {
  const stack: string[] = [];
  for (const [, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], "unclosed elements");
}

test("chunking follows llama-perplexity: BOS first, second half scored against the original tokens", () => {
  const tokens = Array.from({ length: 1100 }, (_, i) => 100 + i);
  const chunks = planChunks(tokens, 512, 1);
  assert.equal(chunks.length, 2);
  assert.equal(chunks[1]!.input[0], 1);
  assert.deepEqual(chunks[1]!.input.slice(1), tokens.slice(513, 1024));
  assert.equal(chunks[1]!.first, 256);
  assert.equal(chunks[1]!.last, 510);
  assert.equal(chunks[1]!.targets.length, 255);
  assert.equal(chunks[1]!.targets[0], tokens[512 + 257]);
  assert.equal(planChunks(tokens, 512, null, 1).length, 1);
  assert.equal(planChunks(tokens, 512, null)[1]!.input[0], tokens[512]);
  assert.throws(() => planChunks(tokens, 600, 1), NotEnoughTokensError);
});

test("KL divergence and argmax on known distributions", () => {
  const p = logSoftmax(Float64Array.from([0, 0]));
  const q = logSoftmax(Float64Array.from([Math.log(0.9), Math.log(0.1)]));
  assert.ok(Math.abs(klDivergence(p, q) - (0.5 * Math.log(0.5 / 0.9) + 0.5 * Math.log(0.5 / 0.1))) < 1e-12);
  assert.equal(klDivergence(q, q), 0);
  assert.equal(argmax(Float64Array.from([1, 3, 3, 2])), 1);
});

test("edged bench lists its benchmarks and rejects bad calls", async () => {
  const help = await cli("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /quant/);
  assert.equal((await cli()).code, 2);
  const unknown = await cli("nope");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown benchmark "nope"/);
  const quantHelp = await cli("quant", "--help");
  assert.equal(quantHelp.code, 0);
  assert.match(quantHelp.stdout, /--types/);
  const imatrix = await cli("quant", "--model", "x.gguf", "--types", "IQ2_XXS", "--skip-onnx");
  assert.equal(imatrix.code, 2);
  assert.match(imatrix.stderr, /importance matrix/);
});

test("edged bench quant compares a tiny F16 model with Q8_0 and Q4_0 end to end", async () => {
  const model = await writeTinyModel(dir, "tiny-F16.gguf");
  const text = join(dir, "heldout.txt");
  await writeFile(text, sampleText(3000));
  const json = join(dir, "results", "quant.json");
  const svg = join(dir, "results", "quant.svg");
  // The bundled embedders join in when they exist; without them the ONNX half is skipped.
  const manifest = join(MODELS, "manifest.json");
  const withOnnx = existsSync(manifest) && existsSync(join(MODELS, "edged-embed-q4.onnx")) && existsSync(join(MODELS, "data", "heldout-pairs.json"));
  const { code, stdout, stderr } = await cli(
    "quant", "--model", model, "--types", "Q8_0,Q4_0", "--text", text, "--ctx", "128", "--chunks", "2",
    "--rounds", "1", "--reps", "2", "--ttft-reps", "3", "--prefill-tokens", "32", "--decode-tokens", "16",
    ...(withOnnx ? ["--onnx-runs", "20"] : ["--skip-onnx"]), "--json", json, "--svg", svg,
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /1 thread/);
  assert.match(stdout, /decode t\/s/);
  assert.match(stderr, /perplexity \+ KL/);

  const report = QuantReport.parse(JSON.parse(await readFile(json, "utf8")));
  assert.deepEqual(report.llama.map((r) => r.type), ["F16", "Q8_0", "Q4_0"]);
  const [f16, q8, q4] = report.llama as [typeof report.llama[0], typeof report.llama[0], typeof report.llama[0]];
  assert.equal(report.perplexity.chunks, 2);
  assert.equal(report.perplexity.scoredTokens, 2 * (128 - 1 - 64));
  assert.ok(f16.reference && !q8.reference && !q4.reference);
  assert.equal(f16.klMean, 0);
  assert.equal(f16.top1Agreement, 1);
  assert.equal(f16.decodeRatio, 1);
  assert.ok(q8.fileBytes < f16.fileBytes && q4.fileBytes < q8.fileBytes, "quantized files are smaller");
  assert.ok(q4.bitsPerWeight < q8.bitsPerWeight && q8.bitsPerWeight < f16.bitsPerWeight);
  assert.ok(q8.klMean > 0 && q4.klMean > q8.klMean, `KL: Q8_0 ${q8.klMean}, Q4_0 ${q4.klMean}`);
  assert.ok(q8.top1Agreement >= q4.top1Agreement);
  for (const r of report.llama) {
    assert.ok(Number.isFinite(r.perplexity) && r.perplexity > 1, `${r.type} perplexity ${r.perplexity}`);
    assert.ok(r.decodeTokPerSec > 0 && r.prefillTokPerSec > 0 && r.loadMs > 0 && r.rssPeakMiB > 0);
    assert.equal(r.ttftMs.n, 3);
    assert.ok(!r.file.startsWith("/"), "no absolute paths in results");
  }
  if (withOnnx) {
    assert.ok(report.onnx);
    assert.equal(report.onnx.inputTokens, 64);
    assert.ok(report.onnx.models[1]!.fileBytes < report.onnx.models[0]!.fileBytes);
    assert.ok(report.onnx.cosine.mean > 0.5 && report.onnx.cosine.mean <= 1 + 1e-6);
  } else assert.equal(report.onnx, null);

  const chart = await readFile(svg, "utf8");
  assert.match(chart, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assertBalancedXml(chart);
  assert.equal(chart.match(/<circle class="bubble"/g)?.length, 3, "one bubble per type");
  for (const type of ["F16", "Q8_0", "Q4_0"]) assert.match(chart, new RegExp(`>${type}</text>`));
});
