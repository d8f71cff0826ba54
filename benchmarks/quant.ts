/**
 * The quantization workbench: `edged bench quant` or `node dist/benchmarks/quant.js`. See USAGE in
 * quant/options.ts for the flags and benchmarks/README.md for what each number means and how it is measured.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { progressLine } from "../src/cli/progress.js";
import { UsageError } from "../src/cli/usage.js";
import { quantize } from "../src/quantize/quantizer.js";
import { displayPath } from "./harness/paths.js";
import { reportHeader, writeJson, writeText } from "./harness/report.js";
import { modelFacts, isUnquantized } from "./quant/modelFacts.js";
import { compareEmbedders } from "./quant/onnx.js";
import { parseQuantOptions, TTFT_PROMPT_TOKENS, USAGE, type QuantOptions } from "./quant/options.js";
import { measureQuality } from "./quant/quality.js";
import { QuantReport, type LlamaRow } from "./quant/schema.js";
import { measureSpeed } from "./quant/speed.js";
import { llamaTable, onnxTable, qualitySpeedChart } from "./quant/output.js";

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Speed prompts are cut from the start of the held-out text; this many characters hold far more tokens than needed. */
const PROMPT_CHARS = 8000;

async function quantizeAll(options: QuantOptions, dir: string): Promise<string[]> {
  const stem = basename(options.model).replace(/(-F16|-BF16|-F32)?\.gguf$/i, "");
  const paths: string[] = [];
  for (const type of options.types) {
    const out = join(dir, `${stem}-${type}.gguf`);
    const bar = progressLine(`quantize ${type}`);
    try {
      await quantize(options.model, out, { type, threads: options.threads, onProgress: (p) => bar.update(p.index, p.total, p.tensor) });
    } finally {
      bar.end();
    }
    paths.push(out);
  }
  return paths;
}

async function run(options: QuantOptions): Promise<QuantReport> {
  const started = performance.now();
  const text = await readFile(options.text, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read --text ${options.text}: ${error.code ?? error.message}`);
  });
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const reference = await modelFacts(llama, options.model);
  if (!isUnquantized(reference)) throw new UsageError(`the reference model must be unquantized (F16, BF16 or F32), ${displayPath(options.model)} is ${reference.type}`);
  if (options.types.includes(reference.type)) throw new UsageError(`${reference.type} is the reference row; leave it out of --types`);
  log(`bench quant: ${displayPath(options.model)} (${reference.type}) vs ${options.types.join(", ")}; threads ${options.threads}`);

  const stageSeconds: Record<string, number> = {};
  const stage = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await work();
    stageSeconds[name] = (performance.now() - start) / 1000;
    log(`${name}: ${stageSeconds[name]!.toFixed(1)} s`);
    return result;
  };

  const dir = options.outDir ?? (await mkdtemp(join(tmpdir(), "edged-bench-quant-")));
  try {
    const paths = [options.model, ...(await stage("quantize", () => quantizeAll(options, dir)))];
    const facts = [reference, ...(await Promise.all(paths.slice(1).map((p) => modelFacts(llama, p))))];
    const labels = [reference.type, ...options.types];

    const speedJob = {
      threads: options.threads,
      promptText: text.slice(0, PROMPT_CHARS),
      prefillTokens: options.prefillTokens,
      decodeTokens: options.decodeTokens,
      ttftPromptTokens: TTFT_PROMPT_TOKENS,
      reps: options.reps,
      ttftReps: options.ttftReps,
    };
    const speed = await stage("speed", () =>
      measureSpeed(paths, speedJob, options.rounds, (round, i) => log(`speed round ${round + 1}/${options.rounds}: ${labels[i]}`)),
    );

    const bar = progressLine("perplexity + KL");
    const quality = await stage("perplexity + KL", () =>
      measureQuality(llama, paths, text, {
        nCtx: options.ctx,
        maxChunks: options.chunks,
        threads: options.threads,
        onChunk: (done, total) => bar.update(done, total, "chunks"),
      }).finally(() => bar.end()),
    );

    const onnxOptions = options.onnx;
    const onnx = onnxOptions && (await stage("onnx", () => compareEmbedders({ ...onnxOptions, threads: options.threads, onStep: (step) => log(`onnx: ${step}`) })));

    const ref = { speed: speed[0]!, quality: quality.models[0]! };
    const llamaRows: LlamaRow[] = paths.map((path, i) => {
      const { type: _, ...file } = facts[i]!;
      return {
        type: labels[i]!,
        reference: i === 0,
        file: displayPath(path),
        ...file,
        ...speed[i]!,
        ...quality.models[i]!,
        prefillRatio: speed[i]!.prefillTokPerSec / ref.speed.prefillTokPerSec,
        decodeRatio: speed[i]!.decodeTokPerSec / ref.speed.decodeTokPerSec,
        deltaPerplexityPct: (quality.models[i]!.perplexity / ref.quality.perplexity - 1) * 100,
      };
    });
    return QuantReport.parse({
      ...reportHeader("quant"),
      config: {
        model: displayPath(options.model),
        types: options.types,
        text: displayPath(options.text),
        ctx: options.ctx,
        threads: options.threads,
        rounds: options.rounds,
        reps: options.reps,
        ttftReps: options.ttftReps,
        ttftPromptTokens: TTFT_PROMPT_TOKENS,
        prefillTokens: options.prefillTokens,
        decodeTokens: options.decodeTokens,
      },
      seconds: (performance.now() - started) / 1000,
      stageSeconds,
      perplexity: {
        textTokens: quality.textTokens,
        chunks: quality.chunks,
        scoredTokens: quality.scoredTokens,
        method: "llama-perplexity: BOS-prefixed tokens, chunks of ctx with BOS first, second half scored; see benchmarks/README.md",
      },
      llama: llamaRows,
      onnx,
    });
  } finally {
    if (!options.outDir) await rm(dir, { recursive: true, force: true });
  }
}

export async function runQuantBench(argv: string[]): Promise<void> {
  const options = await parseQuantOptions(argv);
  if (!options) return void console.log(USAGE);
  const report = await run(options);
  await writeJson(options.json, report);
  await writeText(options.svg, qualitySpeedChart(report));
  console.log(llamaTable(report));
  if (report.onnx) console.log(`\n${onnxTable(report.onnx)}`);
  console.log(`\n${report.seconds.toFixed(1)} s; wrote ${displayPath(options.json)} and ${displayPath(options.svg)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runQuantBench(process.argv.slice(2)).catch((error: Error) => {
    console.error(`bench quant: ${error.message}`);
    process.exitCode = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  });
}
