/** The fp32 and 4-bit ONNX embedders side by side: size, single-input latency, agreement, and held-out pairing accuracy. */
import { readFile, stat } from "node:fs/promises";
import { z } from "zod";
import { OnnxEmbedder } from "../../src/engines/onnx/onnxEmbedder.js";
import type { OnnxModelEntry } from "../../src/models/manifest.js";
import { displayPath } from "../harness/paths.js";
import { summarize } from "../harness/stats.js";
import type { OnnxModelRow, OnnxReport } from "./schema.js";

export type EmbedderConfig = Pick<OnnxModelEntry, "dimensions" | "tokenizer">;

export interface OnnxOptions {
  fp32: string;
  q4: string;
  config: EmbedderConfig;
  pairs: string;
  threads: number;
  runs: number;
  onStep?: (step: string) => void;
}

/** Latency is measured on one input of this many tokens, the embedder's usual maximum. */
export const LATENCY_TOKENS = 64;
/** Pairing candidates per group, as models/training/train_embedder.py evaluates it: random guessing scores 1/POOL. */
export const POOL = 100;
const WARMUP = 10;
const BATCH = 100;

const Pairs = z.array(z.tuple([z.string(), z.string()])).min(POOL);

/** The embedder returns L2-normalised vectors, so their dot product is their cosine similarity. */
const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);

async function embedAll(embedder: OnnxEmbedder, texts: readonly string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += BATCH) out.push(...(await embedder.embed(texts.slice(i, i + BATCH))));
  return out;
}

/** Top-1 over consecutive groups of POOL pairs; a trailing partial group is left out, as the trainer does. */
function pairingTop1(firsts: Float32Array[], seconds: Float32Array[]): number {
  let hits = 0;
  for (let start = 0; start + POOL <= firsts.length; start += POOL) {
    for (let i = start; i < start + POOL; i++) {
      const own = dot(firsts[i]!, seconds[i]!);
      let beaten = false;
      // argmax takes the first of equal scores, as torch's does in the trainer
      for (let j = start; j < start + POOL && !beaten; j++) beaten = j < i ? dot(firsts[i]!, seconds[j]!) >= own : j > i && dot(firsts[i]!, seconds[j]!) > own;
      if (!beaten) hits++;
    }
  }
  return hits / (Math.floor(firsts.length / POOL) * POOL);
}

/** A 64-word input built from held-out sentences: one word-hash token per word. */
function latencyInput(pairs: readonly [string, string][]): string {
  const words = pairs.flat().join(" ").split(/\s+/).filter((w) => /[a-z0-9]/i.test(w));
  return words.slice(0, LATENCY_TOKENS).join(" ");
}

export async function compareEmbedders(options: OnnxOptions): Promise<OnnxReport> {
  const pairs = Pairs.parse(JSON.parse(await readFile(options.pairs, "utf8")));
  const used = pairs.slice(0, Math.floor(pairs.length / POOL) * POOL);
  const names = ["fp32", "q4"] as const;
  const paths = [options.fp32, options.q4];
  const embedders = await Promise.all(paths.map((p) => OnnxEmbedder.load(p, options.config, { threads: options.threads })));
  try {
    const input = [latencyInput(pairs)];
    const inputTokens = embedders[0]!.tokenCounts(input)[0]!;
    options.onStep?.(`latency, ${options.runs} runs of a ${inputTokens}-token input per model`);
    for (const e of embedders) for (let i = 0; i < WARMUP; i++) await e.embed(input);
    const latencies = embedders.map((): number[] => []);
    // Alternating the two models run by run spreads background noise evenly over both.
    for (let r = 0; r < options.runs; r++) {
      for (const [m, e] of embedders.entries()) {
        const start = performance.now();
        await e.embed(input);
        latencies[m]!.push(performance.now() - start);
      }
    }
    options.onStep?.(`agreement and pairing over ${used.length} held-out pairs`);
    const vectors: { firsts: Float32Array[]; seconds: Float32Array[] }[] = [];
    for (const e of embedders) vectors.push({ firsts: await embedAll(e, used.map((p) => p[0])), seconds: await embedAll(e, used.map((p) => p[1])) });
    const cosines = [...vectors[0]!.firsts.map((v, i) => dot(v, vectors[1]!.firsts[i]!)), ...vectors[0]!.seconds.map((v, i) => dot(v, vectors[1]!.seconds[i]!))];
    const models: OnnxModelRow[] = await Promise.all(
      names.map(async (name, m) => ({
        name,
        file: displayPath(paths[m]!),
        fileBytes: (await stat(paths[m]!)).size,
        provider: embedders[m]!.provider.chosen.name,
        latencyMs: summarize(latencies[m]!),
        pairingTop1: pairingTop1(vectors[m]!.firsts, vectors[m]!.seconds),
      })),
    );
    return {
      inputTokens,
      runs: options.runs,
      models,
      cosine: { mean: cosines.reduce((a, b) => a + b, 0) / cosines.length, min: Math.min(...cosines), sentences: cosines.length },
      pairs: used.length,
      pairPool: POOL,
      randomBaseline: 1 / POOL,
    };
  } finally {
    await Promise.all(embedders.map((e) => e.dispose()));
  }
}
