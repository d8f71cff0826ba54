/** Flags of `edged bench quant`, validated, with defaults taken from the bundled model manifest. */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { UsageError } from "../../src/cli/usage.js";
import { loadManifest, OnnxModelEntry, type LoadedManifest } from "../../src/models/manifest.js";
import { fileType, UnknownFileTypeError } from "../../src/quantize/fileTypes.js";
import { resultsPath, ROOT } from "../harness/paths.js";
import type { EmbedderConfig } from "./onnx.js";

export const USAGE = `usage: edged bench quant [options]        (or: npm run bench:quant -- [options])

Quantizes an F16 GGUF to each type and compares them side by side: size, bits per weight, load time, memory,
prefill and decode speed, time to first token, perplexity (llama-perplexity's method), KL divergence and top-1
agreement against F16; then the fp32 and 4-bit ONNX embedders. Prints tables, writes JSON and an SVG chart.

  --model FILE          unquantized reference GGUF (default: the manifest's F16 model)
  --types LIST          comma-separated types to make and compare (default Q8_0,Q4_K_M,Q4_0)
  --out-dir DIR         keep the quantized files here (default: a temporary folder, removed afterwards)
  --text FILE           held-out text for perplexity and KL (default models/data/heldout.txt)
  --ctx N               tokens per perplexity chunk, llama-perplexity's -c (default 512)
  --chunks N            score at most N chunks, llama-perplexity's --chunks (default: all)
  --threads N           llama.cpp and onnxruntime threads (default 1; more is slower on a busy 2-core machine)
  --rounds N            speed rounds, alternating the order of the types (default 2)
  --reps N              prefill and decode repetitions per round (default 5)
  --ttft-reps N         time-to-first-token repetitions per round (default 20)
  --prefill-tokens N    prompt length of the prefill measurement (default 128)
  --decode-tokens N     tokens generated per decode measurement (default 128)
  --onnx-fp32 FILE      fp32 embedder (default: the manifest's fp32 embedder)
  --onnx-q4 FILE        4-bit embedder (default: the manifest's q4 embedder)
  --onnx-config JSON    {"dimensions":N,"tokenizer":{...}} for embedders that are not in the manifest
  --pairs FILE          held-out [sentence, next sentence] pairs (default models/data/heldout-pairs.json)
  --onnx-runs N         latency runs per embedder (default 200)
  --skip-onnx           leave out the embedder comparison
  --json FILE           results (default benchmarks/results/quant.json)
  --svg FILE            chart (default benchmarks/results/quant.svg)`;

const DEFAULT_TYPES = "Q8_0,Q4_K_M,Q4_0";
/** Time to first token is measured on a prompt of this many tokens. */
export const TTFT_PROMPT_TOKENS = 32;

const count = (min = 1) => z.coerce.number().int().min(min);

const Flags = z.object({
  model: z.string().optional(),
  types: z.string().default(DEFAULT_TYPES),
  "out-dir": z.string().optional(),
  text: z.string().default(join(ROOT, "models", "data", "heldout.txt")),
  ctx: count(8).default(512),
  chunks: count().optional(),
  threads: count().default(1),
  rounds: count().default(2),
  reps: count().default(5),
  "ttft-reps": count().default(20),
  "prefill-tokens": count().default(128),
  "decode-tokens": count().default(128),
  "onnx-fp32": z.string().optional(),
  "onnx-q4": z.string().optional(),
  "onnx-config": z.string().optional(),
  pairs: z.string().default(join(ROOT, "models", "data", "heldout-pairs.json")),
  "onnx-runs": count().default(200),
  "skip-onnx": z.boolean().default(false),
  json: z.string().default(resultsPath("quant", "json")),
  svg: z.string().default(resultsPath("quant", "svg")),
});

export interface QuantOptions {
  model: string;
  types: string[];
  outDir?: string;
  text: string;
  ctx: number;
  chunks?: number;
  threads: number;
  rounds: number;
  reps: number;
  ttftReps: number;
  prefillTokens: number;
  decodeTokens: number;
  onnx: { fp32: string; q4: string; config: EmbedderConfig; pairs: string; runs: number } | null;
  json: string;
  svg: string;
}

function parseTypes(list: string): string[] {
  const types = list.split(",").map((t) => t.trim()).filter(Boolean);
  if (types.length === 0) throw new UsageError("--types needs at least one type");
  return types.map((t) => {
    let type;
    try {
      type = fileType(t);
    } catch (error) {
      if (error instanceof UnknownFileTypeError) throw new UsageError(error.message);
      throw error;
    }
    if (type.needsImatrix) throw new UsageError(`${type.name} needs an importance matrix, which edged does not compute`);
    if (types.filter((x) => x.toUpperCase() === type.name).length > 1) throw new UsageError(`${type.name} is listed twice`);
    return type.name;
  });
}

/** The manifest is read only for the defaults that need it, so explicit paths work without bundled models. */
function manifestReader(): () => Promise<LoadedManifest> {
  let manifest: Promise<LoadedManifest> | undefined;
  return () =>
    (manifest ??= loadManifest().catch((error: Error) => {
      throw new UsageError(`${error.message}; pass the files explicitly (see --help)`);
    }));
}

function onnxConfig(json: string): EmbedderConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new UsageError(`--onnx-config is not JSON: ${(error as Error).message}`);
  }
  const parsed = OnnxModelEntry.pick({ dimensions: true, tokenizer: true }).safeParse(raw);
  if (!parsed.success) throw new UsageError(`--onnx-config: ${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/** Returns null for --help. */
export async function parseQuantOptions(argv: string[]): Promise<QuantOptions | null> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.keys(Flags.shape).map((name) => [name, { type: "string" as const }])),
      "skip-onnx": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return null;
  const { help: _, ...rest } = values;
  const parsed = Flags.safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--${issue.path.join(".")}: ${issue.message}`);
  }
  const f = parsed.data;
  const types = parseTypes(f.types);
  if (f["prefill-tokens"] >= f.ctx || TTFT_PROMPT_TOKENS + f["decode-tokens"] >= f.ctx) {
    throw new UsageError(`--prefill-tokens and ${TTFT_PROMPT_TOKENS} + --decode-tokens must stay below --ctx (${f.ctx})`);
  }
  const manifest = manifestReader();
  const manifestPath = async (entry: (e: LoadedManifest["models"][number]) => boolean, missing: string): Promise<string> => {
    const m = await manifest();
    const found = m.models.find(entry);
    if (!found) throw new UsageError(missing);
    return found.path;
  };
  const model = f.model ?? (await manifestPath((e) => e.engine === "llama" && e.quant === "F16", "the manifest has no F16 llama model; pass --model"));

  let onnx: QuantOptions["onnx"] = null;
  if (!f["skip-onnx"]) {
    const isEmbedder = (quant: string) => (e: LoadedManifest["models"][number]) => e.engine === "onnx" && e.quant === quant;
    const missing = (quant: string) => `the manifest has no ${quant} ONNX embedder; pass --onnx-${quant} or --skip-onnx`;
    const fp32 = f["onnx-fp32"] ?? (await manifestPath(isEmbedder("fp32"), missing("fp32")));
    const q4 = f["onnx-q4"] ?? (await manifestPath(isEmbedder("q4"), missing("q4")));
    let config: EmbedderConfig;
    if (f["onnx-config"]) config = onnxConfig(f["onnx-config"]);
    else {
      const entry = (await manifest()).models.find((e): e is OnnxModelEntry => isEmbedder("fp32")(e));
      if (!entry) throw new UsageError(`${missing("fp32")}, with --onnx-config`);
      config = { dimensions: entry.dimensions, tokenizer: entry.tokenizer };
    }
    onnx = { fp32, q4, config, pairs: f.pairs, runs: f["onnx-runs"] };
  }

  return {
    model,
    types,
    outDir: f["out-dir"],
    text: f.text,
    ctx: f.ctx,
    chunks: f.chunks,
    threads: f.threads,
    rounds: f.rounds,
    reps: f.reps,
    ttftReps: f["ttft-reps"],
    prefillTokens: f["prefill-tokens"],
    decodeTokens: f["decode-tokens"],
    onnx,
    json: f.json,
    svg: f.svg,
  };
}
