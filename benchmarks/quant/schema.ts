/** The shape of benchmarks/results/quant.json, checked before it is written and by the test that reads it. */
import { z } from "zod";

const Summary = z.object({ p50: z.number(), p99: z.number(), mean: z.number(), n: z.number().int() });

export const LlamaRow = z.object({
  type: z.string(),
  /** The unquantized model every other row is compared with. */
  reference: z.boolean(),
  file: z.string(),
  fileBytes: z.number().int().positive(),
  parameters: z.number().int().positive(),
  /** Tensor bytes × 8 / parameters, as llama.cpp prints "BPW" (metadata excluded). */
  bitsPerWeight: z.number().positive(),
  loadMs: z.number(),
  /** Peak RSS of the measuring child process minus its RSS just before loading the model. */
  rssModelMiB: z.number(),
  /** Peak RSS of the measuring child process, Node and llama.cpp included. */
  rssPeakMiB: z.number(),
  prefillTokPerSec: z.number(),
  decodeTokPerSec: z.number(),
  prefillRatio: z.number(),
  decodeRatio: z.number(),
  ttftMs: Summary,
  perplexity: z.number(),
  /** One standard error of the perplexity, computed as llama-perplexity does. */
  perplexityError: z.number(),
  deltaPerplexityPct: z.number(),
  /** Mean KL(reference ‖ this) in nats over the scored positions; 0 by definition for the reference. */
  klMean: z.number().min(0),
  klP99: z.number().min(0),
  /** Fraction of scored positions whose most likely next token equals the reference's; 1 by definition for the reference. */
  top1Agreement: z.number().min(0).max(1),
});
export type LlamaRow = z.infer<typeof LlamaRow>;

export const OnnxModelRow = z.object({
  name: z.enum(["fp32", "q4"]),
  file: z.string(),
  fileBytes: z.number().int().positive(),
  provider: z.string(),
  latencyMs: Summary,
  /** Share of held-out pairs whose first sentence's nearest neighbour, among its group's second sentences, is its partner. */
  pairingTop1: z.number().min(0).max(1),
});
export type OnnxModelRow = z.infer<typeof OnnxModelRow>;

export const OnnxReport = z.object({
  inputTokens: z.number().int().positive(),
  runs: z.number().int().positive(),
  models: z.array(OnnxModelRow).length(2),
  /** Cosine similarity of the fp32 and q4 embeddings of the same sentence, over every held-out sentence used. */
  cosine: z.object({ mean: z.number(), min: z.number(), sentences: z.number().int() }),
  pairs: z.number().int(),
  pairPool: z.number().int(),
  randomBaseline: z.number(),
});
export type OnnxReport = z.infer<typeof OnnxReport>;

export const QuantConfig = z.object({
  model: z.string(),
  types: z.array(z.string()),
  text: z.string(),
  ctx: z.number().int(),
  threads: z.number().int(),
  rounds: z.number().int(),
  reps: z.number().int(),
  ttftReps: z.number().int(),
  ttftPromptTokens: z.number().int(),
  prefillTokens: z.number().int(),
  decodeTokens: z.number().int(),
});

export const QuantReport = z.object({
  benchmark: z.literal("quant"),
  date: z.string(),
  commit: z.string().nullable(),
  machine: z.object({
    cpu: z.string(),
    cores: z.number().int(),
    memoryGiB: z.number(),
    platform: z.string(),
    arch: z.string(),
    node: z.string(),
    loadAverage: z.number(),
  }),
  config: QuantConfig,
  seconds: z.number(),
  /** Wall time of each stage: quantize, speed, perplexity + KL, onnx. */
  stageSeconds: z.record(z.string(), z.number()),
  perplexity: z.object({
    textTokens: z.number().int(),
    chunks: z.number().int().positive(),
    scoredTokens: z.number().int().positive(),
    method: z.string(),
  }),
  llama: z.array(LlamaRow).min(1),
  onnx: OnnxReport.nullable(),
});
export type QuantReport = z.infer<typeof QuantReport>;
