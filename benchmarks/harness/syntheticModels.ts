/**
 * Random-weight llama models of realistic size for benchmarks, written once by edged's GGUF writer into
 * .cache/synthetic/ and quantized by edged's quantizer: the tiny bundled model hides per-token costs that these
 * show. Their text is meaningless; only their speed and memory figures mean anything.
 */
import { existsSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { writeSyntheticLlama } from "../../src/gguf/syntheticLlama.js";
import { readVocabulary, type Vocabulary } from "../../src/gguf/vocabulary.js";
import { quantize } from "../../src/quantize/quantizer.js";
import { ROOT } from "./paths.js";

export const SYNTHETIC = {
  /** 141 M parameters: 768 wide, 12 layers, a 32k vocabulary. */
  "140m": { contextLength: 4096, embeddingLength: 768, blockCount: 12, feedForwardLength: 2304, headCount: 12, headCountKv: 12, rmsEpsilon: 1e-5, ropeFreqBase: 10000 },
  /** 488 M parameters: 1280 wide, 20 layers, a 32k vocabulary. */
  "500m": { contextLength: 4096, embeddingLength: 1280, blockCount: 20, feedForwardLength: 3584, headCount: 20, headCountKv: 20, rmsEpsilon: 1e-5, ropeFreqBase: 10000 },
} as const;
export type SyntheticSize = keyof typeof SYNTHETIC;

const VOCABULARY_SIZE = 32_000;
export const SYNTHETIC_DIR = join(ROOT, ".cache", "synthetic");
/** Changes when the models' contents do, so an older cache is not reused. */
const STEM = "synthetic-v2";

/**
 * The bundled tokenizer padded to a 32k vocabulary, as real models of this size have. The extra pieces are
 * ordinary words ("▁syn123"), not unused slots: random weights pick among all 32k tokens, and a token that
 * prints nothing would stream nothing, leaving a server's first-token and decode times unmeasurable.
 */
async function paddedVocabulary(): Promise<Vocabulary> {
  const v = await readVocabulary(join(ROOT, "models", "tokenizer", "vocabulary.json"));
  const extra = VOCABULARY_SIZE - v.tokens.length;
  return {
    ...v,
    tokens: [...v.tokens, ...Array.from({ length: extra }, (_, i) => `\u2581syn${i}`)],
    scores: [...v.scores, ...Array<number>(extra).fill(-1000)],
    types: [...v.types, ...Array<number>(extra).fill(1)],
  };
}

/** The model's file at `quant` (F16 or a type edged quantize knows), made on first use. */
export async function syntheticModel(size: SyntheticSize, quant = "F16", log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  await mkdir(SYNTHETIC_DIR, { recursive: true });
  const f16 = join(SYNTHETIC_DIR, `${STEM}-${size}-F16.gguf`);
  if (!existsSync(f16)) {
    log(`writing the ${size} synthetic model (F16, once) to ${f16}`);
    await writeSyntheticLlama(`${f16}.tmp`, { hyperparams: SYNTHETIC[size], vocabulary: await paddedVocabulary(), seed: 11, name: `edged-synthetic-${size}` });
    await rename(`${f16}.tmp`, f16);
  }
  if (quant.toUpperCase() === "F16") return f16;
  const out = join(SYNTHETIC_DIR, `${STEM}-${size}-${quant.toUpperCase()}.gguf`);
  if (!existsSync(out)) {
    log(`quantizing the ${size} synthetic model to ${quant} (once)`);
    await quantize(f16, `${out}.tmp`, { type: quant });
    await rename(`${out}.tmp`, out);
  }
  return out;
}

/** A benchmark's `--model`: a synthetic size ("140m", "500m", made once at Q4_K_M) or a model id or path as it is; results of a synthetic model go to files named after its size. */
export async function benchModel(model: string, log: (line: string) => void): Promise<{ served: string; synthetic: boolean; results: (name: string) => string }> {
  if (!(model in SYNTHETIC)) return { served: model, synthetic: false, results: (name) => name };
  return { served: await syntheticModel(model as SyntheticSize, "Q4_K_M", log), synthetic: true, results: (name) => `${name}-${model}` };
}
