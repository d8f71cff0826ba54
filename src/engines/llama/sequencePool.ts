/**
 * The context's sequences, kept with their evaluated tokens between requests. A request takes the free
 * sequence sharing the longest prefix with its prompt and evaluates only the rest, so a system prompt or an
 * earlier turn of the same conversation is not evaluated again. Memory stays bounded: the pool is the context.
 */
import type { LlamaContext, LlamaContextSequence, Token } from "node-llama-cpp";

export interface Lease {
  sequence: LlamaContextSequence;
  /** The prompt tokens still to evaluate (at least one, so there are logits to sample from). */
  rest: Token[];
  reused: number;
  /** Returns the sequence to the pool; `clean: false` drops its state (after an error or an abort mid-evaluation). */
  release(clean: boolean): Promise<void>;
}

function commonPrefix(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Shared prefixes shorter than this count as none: every prompt of a chat template shares its first tokens, and
 * taking a sequence for them alone would erase whatever long prefix it holds (tool definitions, a system prompt)
 * to save a few tokens.
 */
const MIN_SHARED = 16;

export class SequencePool {
  private readonly free: LlamaContextSequence[];

  /** `reuse: false` evaluates every prompt in full (to measure what reuse saves). */
  constructor(context: LlamaContext, private readonly reuse = true) {
    this.free = Array.from({ length: context.totalSequences }, () => context.getSequence());
  }

  get hasFree(): boolean {
    return this.free.length > 0;
  }

  /** The caller holds a scheduler slot, so a sequence is always free. */
  async acquire(prompt: readonly Token[]): Promise<Lease> {
    let best = 0;
    let bestLength = -1;
    let bestHeld = Infinity;
    // the longest shared prefix; on a tie (none worth counting, above all), the sequence holding least, so a long
    // cached prefix is not overwritten by a request that shares only the template's first tokens with it
    this.free.forEach((s, i) => {
      const shared = commonPrefix(s.contextTokens, prompt);
      const length = shared >= MIN_SHARED ? shared : 0;
      const held = s.contextTokens.length;
      if (length > bestLength || (length === bestLength && held < bestHeld)) [best, bestLength, bestHeld] = [i, length, held];
    });
    const sequence = this.free.splice(best, 1)[0];
    if (!sequence) throw new Error("no free sequence: more requests than slots");
    const keep = this.reuse ? Math.min(commonPrefix(sequence.contextTokens, prompt), prompt.length - 1) : 0;
    try {
      if (sequence.nextTokenIndex > keep) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    } catch (error) {
      this.free.push(sequence);
      throw error;
    }
    return {
      sequence,
      rest: prompt.slice(keep),
      reused: keep,
      release: async (clean) => {
        try {
          if (!clean) await sequence.clearHistory();
        } finally {
          this.free.push(sequence); // a sequence is never lost to the pool
        }
      },
    };
  }
}
