/**
 * Perplexity, KL divergence and top-1 agreement, computed the way llama.cpp's `llama-perplexity` computes them
 * (tools/perplexity/perplexity.cpp, functions `perplexity` and `kl_divergence`):
 *
 * 1. The whole text is tokenized once with special tokens added, i.e. with BOS in front when the vocabulary asks for it.
 * 2. It is cut into floor(tokens / n_ctx) chunks of n_ctx tokens (`--chunks` keeps the first N); fewer than
 *    2·n_ctx tokens is an error.
 * 3. Each chunk is evaluated in a fresh, cleared sequence at positions 0..n_ctx-1, with its first token replaced
 *    by BOS when the vocabulary adds BOS.
 * 4. Only the second half is scored, so every prediction has at least n_ctx/2 tokens of context: the logits at
 *    positions first = n_ctx/2 .. n_ctx-2 predict the original tokens first+1 .. n_ctx-1 (n_ctx-1-first per chunk).
 * 5. Perplexity = exp(mean negative log-likelihood over every scored token), with llama-perplexity's standard error.
 *
 * KL divergence and top-1 agreement use the same scored positions. Unlike `llama-perplexity --kl-divergence`,
 * which stores the base model's log-probabilities as 16-bit integers and skips tokens below e^-16, this compares
 * the complete float distributions over the whole vocabulary in double precision.
 */

export interface Chunk {
  /** The n_ctx tokens to evaluate, the first one replaced by BOS when the vocabulary adds BOS. */
  input: number[];
  /** Positions whose logits are scored. */
  first: number;
  last: number;
  /** targets[k] is the token the logits at position first + k must predict. */
  targets: number[];
}

export class NotEnoughTokensError extends Error {
  override name = "NotEnoughTokensError";
}

/** `tokens` must already start with BOS when the vocabulary adds one, as `common_tokenize(..., add_special=true)` returns it. */
export function planChunks(tokens: readonly number[], nCtx: number, bos: number | null, maxChunks?: number): Chunk[] {
  if (tokens.length < 2 * nCtx) {
    throw new NotEnoughTokensError(`the text tokenizes to ${tokens.length} tokens; perplexity with a context of ${nCtx} needs at least ${2 * nCtx}`);
  }
  const count = Math.min(Math.floor(tokens.length / nCtx), maxChunks ?? Infinity);
  const first = Math.floor(nCtx / 2);
  return Array.from({ length: count }, (_, i) => {
    const start = i * nCtx;
    const input = tokens.slice(start, start + nCtx);
    if (bos !== null) input[0] = bos;
    return { input, first, last: nCtx - 2, targets: tokens.slice(start + first + 1, start + nCtx) };
  });
}

/** Log-probabilities from logits, in double precision. */
export function logSoftmax(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const norm = max + Math.log(sum);
  return logits.map((v) => v - norm);
}

export function argmax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** KL(P ‖ Q) in nats from the log-probabilities of P (the reference) and Q. */
export function klDivergence(logP: Float64Array, logQ: Float64Array): number {
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]!);
    if (p > 0) kl += p * (logP[i]! - logQ[i]!);
  }
  return Math.max(0, kl); // rounding can make an identical pair a hair negative
}

/** Running negative log-likelihood, reported as llama-perplexity reports it: PPL and one standard error. */
export class Perplexity {
  private sum = 0;
  private sumSquares = 0;
  count = 0;

  add(nll: number): void {
    this.sum += nll;
    this.sumSquares += nll * nll;
    this.count++;
  }

  get value(): number {
    return Math.exp(this.sum / this.count);
  }

  /** Standard error of the mean NLL, carried to the perplexity (d exp(x) = exp(x) dx). */
  get error(): number {
    const mean = this.sum / this.count;
    const variance = this.sumSquares / this.count - mean * mean;
    return variance > 0 && this.count > 1 ? Math.sqrt(variance / (this.count - 1)) * this.value : 0;
  }
}
