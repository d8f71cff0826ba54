/**
 * Token log-probabilities as every surface reports them: each generated token with its log-probability, its UTF-8
 * bytes, and the likeliest alternatives at that step. The device computes them from the distribution its sampler
 * drew from; an OpenAI-compatible cloud passes its own through.
 */
import { z } from "zod";

export const TokenChoice = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()) });
export type TokenChoice = z.infer<typeof TokenChoice>;

export const TokenLogprob = TokenChoice.extend({ top: z.array(TokenChoice) });
export type TokenLogprob = z.infer<typeof TokenLogprob>;

/** A prompt token's entry when a text is scored: the first token of a text without BOS has no log-probability. */
export type ScoredToken = Omit<TokenLogprob, "logprob"> & { logprob: number | null };

/** One token's entry as OpenAI's chat, Responses and Ollama all write it: `top` as `top_logprobs`. */
export const wireLogprob = (e: TokenLogprob) => ({ token: e.token, logprob: e.logprob, bytes: e.bytes, top_logprobs: e.top });

/** OpenAI's floor for a probability of zero (JSON has no -Infinity). */
export const LOGPROB_FLOOR = -9999;

export const logprobOf = (probability: number) => (probability > 0 ? Math.max(Math.log(probability), LOGPROB_FLOOR) : LOGPROB_FLOOR);

export const utf8Bytes = (text: string) => [...Buffer.from(text, "utf8")];

/** log Σ exp(v), in double precision and without overflow. */
export function logSumExp(values: Iterable<number>): number {
  const all = [...values];
  let max = -Infinity;
  for (const v of all) if (v > max) max = v;
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (const v of all) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** The `n` likeliest entries of a token → probability map, best first. */
export function likeliest<T>(probabilities: ReadonlyMap<T, number>, n: number): [T, number][] {
  const best: [T, number][] = [];
  if (n <= 0) return best;
  for (const entry of probabilities) {
    if (best.length === n && entry[1] <= best[n - 1]![1]) continue;
    let i = best.length;
    while (i > 0 && best[i - 1]![1] < entry[1]) i--;
    best.splice(i, 0, entry);
    if (best.length > n) best.pop();
  }
  return best;
}
