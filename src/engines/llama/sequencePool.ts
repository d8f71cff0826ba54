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

export class SequencePool {
  private readonly free: LlamaContextSequence[];

  /** When each sequence was last released (a count of releases), for taking the least recently used. */
  private readonly lastUsed = new Map<LlamaContextSequence, number>();
  private uses = 0;

  /** `reuse: false` evaluates every prompt in full (to measure what reuse saves). */
  constructor(context: LlamaContext, private readonly reuse = true) {
    this.free = Array.from({ length: context.totalSequences }, () => context.getSequence());
    for (const s of this.free) this.lastUsed.set(s, 0);
  }

  get hasFree(): boolean {
    return this.free.length > 0;
  }

  /** The caller holds a scheduler slot, so a sequence is always free. */
  async acquire(prompt: readonly Token[]): Promise<Lease> {
    // a sequence is worth taking for what it saves now when that outweighs a quarter of what it holds beyond it
    // (erased, to be evaluated again by whoever wanted it): so a new conversation with a known system prompt takes
    // the sequence holding it, but a request sharing only the template's first tokens with a long cached prefix
    // (tool definitions, a system prompt) does not erase it; with none worth taking, the least recently used
    // contextTokens is a copy: read once per sequence
    const shares = this.free.map((s) => {
      const held = s.contextTokens;
      return { held: held.length, shared: commonPrefix(held, prompt) };
    });
    let best = -1;
    let bestScore = 0;
    shares.forEach(({ held, shared }, i) => {
      const score = shared - (held - shared) / 4;
      if (score > bestScore) [best, bestScore] = [i, score];
    });
    if (best < 0) best = this.free.reduce((lru, s, i) => (this.lastUsed.get(s)! < this.lastUsed.get(this.free[lru]!)! ? i : lru), 0);
    const sequence = this.free.splice(best, 1)[0];
    if (!sequence) throw new Error("no free sequence: more requests than slots");
    const keep = this.reuse ? Math.min(shares[best]!.shared, prompt.length - 1) : 0;
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
          this.lastUsed.set(sequence, ++this.uses);
          this.free.push(sequence); // a sequence is never lost to the pool
        }
      },
    };
  }
}
