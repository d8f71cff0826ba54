/** Perplexity of each model on held-out text, and how far each quantized model's predictions drift from the reference's. */
import type { Llama, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { percentile } from "../harness/stats.js";
import { argmax, klDivergence, logSoftmax, Perplexity, planChunks, type Chunk } from "./perplexity.js";

export interface QualityOptions {
  nCtx: number;
  maxChunks?: number;
  threads: number;
  onChunk?: (done: number, total: number) => void;
}

export interface QualityStats {
  perplexity: number;
  perplexityError: number;
  klMean: number;
  klP99: number;
  top1Agreement: number;
}

export interface QualityResult {
  textTokens: number;
  chunks: number;
  scoredTokens: number;
  /** In the order of the paths given, the reference first. */
  models: QualityStats[];
}

interface Evaluator {
  model: LlamaModel;
  sequence: LlamaContextSequence;
}

async function open(llama: Llama, path: string, options: QualityOptions): Promise<Evaluator> {
  const model = await llama.loadModel({ modelPath: path });
  // node-llama-cpp keeps one cell free (it evaluates at most contextSize - 1 tokens without shifting), so a whole
  // n_ctx chunk needs n_ctx + 1 cells; positions still run 0..n_ctx-1 exactly as in llama-perplexity.
  const context = await model.createContext({ contextSize: options.nCtx + 1, batchSize: options.nCtx, threads: options.threads, sequences: 1 });
  return { model, sequence: context.getSequence() };
}

/** Evaluates one chunk in a cleared sequence; returns the log-probabilities over the whole vocabulary at each scored position. */
async function scoreChunk({ sequence }: Evaluator, chunk: Chunk): Promise<Float64Array[]> {
  await sequence.clearHistory();
  const wanted = (k: number) => k >= chunk.first && k <= chunk.last;
  const out = await sequence.controlledEvaluate((chunk.input as Token[]).map((token, k) => (wanted(k) ? [token, { generateNext: { logits: true } }] : token)));
  const rows: Float64Array[] = [];
  for (let k = chunk.first; k <= chunk.last; k++) {
    const logits = out[k]?.next.logits;
    if (!logits) throw new Error(`no logits returned for position ${k}`);
    const dense = new Float64Array(logits.size);
    for (const [token, logit] of logits) {
      // `logits: true` returns every vocabulary entry; anything else would make the KL divergence an approximation.
      if (token >= dense.length) throw new Error(`partial logits at position ${k}: token ${token} outside ${dense.length} entries`);
      dense[token] = logit;
    }
    rows.push(logSoftmax(dense));
  }
  return rows;
}

/**
 * Scores every chunk with the reference (paths[0]) and then each other model, comparing distributions chunk by
 * chunk, so only one chunk's reference distributions are held in memory.
 */
export async function measureQuality(llama: Llama, paths: readonly string[], text: string, options: QualityOptions): Promise<QualityResult> {
  const evaluators: Evaluator[] = [];
  try {
    for (const path of paths) evaluators.push(await open(llama, path, options));
    const reference = evaluators[0]!.model;
    const bos = reference.tokens.shouldPrependBosToken ? reference.tokens.bos : null;
    const tokens = [...(bos === null ? [] : [bos]), ...reference.tokenize(text, false)];
    const chunks = planChunks(tokens, options.nCtx, bos, options.maxChunks);
    const ppl = paths.map(() => new Perplexity());
    const kl = paths.map((): number[] => []);
    const agree = paths.map(() => 0);
    for (const [i, chunk] of chunks.entries()) {
      options.onChunk?.(i, chunks.length);
      const base = await scoreChunk(evaluators[0]!, chunk);
      const baseTop = base.map(argmax);
      base.forEach((row, k) => ppl[0]!.add(-row[chunk.targets[k]!]!));
      for (let m = 1; m < evaluators.length; m++) {
        const rows = await scoreChunk(evaluators[m]!, chunk);
        rows.forEach((row, k) => {
          ppl[m]!.add(-row[chunk.targets[k]!]!);
          kl[m]!.push(klDivergence(base[k]!, row));
          if (argmax(row) === baseTop[k]) agree[m]!++;
        });
      }
    }
    options.onChunk?.(chunks.length, chunks.length);
    const scored = ppl[0]!.count;
    return {
      textTokens: tokens.length,
      chunks: chunks.length,
      scoredTokens: scored,
      models: paths.map((_, m) => ({
        perplexity: ppl[m]!.value,
        perplexityError: ppl[m]!.error,
        // The reference against itself: zero divergence and full agreement by definition.
        klMean: m === 0 ? 0 : kl[m]!.reduce((a, b) => a + b, 0) / scored,
        klP99: m === 0 ? 0 : percentile(kl[m]!, 99),
        top1Agreement: m === 0 ? 1 : agree[m]! / scored,
      })),
    };
  } finally {
    for (const e of evaluators) await e.model.dispose();
  }
}
