/**
 * The llama.cpp thread count chosen by measurement: on a model's first load on a machine, each plausible count
 * decodes a few real tokens in a small context of its own, and the fastest is kept (the fewest threads within 3 %
 * of the best, so a tie leaves a core free). On a tiny model one thread wins; on a compute-bound one all cores do.
 */
import type { LlamaModel, Token } from "node-llama-cpp";

export interface ThreadMeasurement {
  threads: number;
  /** Decode tokens per second at each candidate count, best of its rounds. */
  tokensPerSecond: Record<string, number>;
}

/** 1, 2, 4, … up to the cores, and the cores themselves and one less. */
export function threadCandidates(cores: number): number[] {
  const counts = new Set<number>([1, Math.max(1, cores - 1), cores]);
  for (let n = 2; n < cores; n *= 2) counts.add(n);
  return [...counts].sort((a, b) => a - b);
}

const PROMPT = "And the evening and the morning were the first day, and God saw every thing that he had made";

async function decodeRate(model: LlamaModel, threads: number, tokens: number, flashAttention: boolean): Promise<number> {
  const context = await model.createContext({ contextSize: 256, sequences: 1, threads, flashAttention });
  try {
    const sequence = context.getSequence();
    const prompt: Token[] = [...(model.tokens.bos !== null ? [model.tokens.bos] : []), ...model.tokenize(PROMPT)];
    let first = NaN;
    let count = 0;
    for await (const _ of sequence.evaluate(prompt, { temperature: 0 })) {
      if (count === 0) first = performance.now();
      if (++count > tokens) break;
    }
    return ((count - 1) * 1000) / (performance.now() - first);
  } finally {
    await context.dispose();
  }
}

export async function measureThreads(model: LlamaModel, o: { cores: number; tokens?: number; rounds?: number; flashAttention?: boolean }): Promise<ThreadMeasurement> {
  const candidates = threadCandidates(o.cores);
  const best = new Map<number, number>();
  for (let round = 0; round < (o.rounds ?? 2); round++) {
    // alternate the order, so a count is not always measured on a warmer or busier machine
    for (const threads of round % 2 === 0 ? candidates : [...candidates].reverse()) {
      const rate = await decodeRate(model, threads, o.tokens ?? 24, o.flashAttention ?? false);
      best.set(threads, Math.max(best.get(threads) ?? 0, rate));
    }
  }
  const top = Math.max(...best.values());
  const threads = candidates.find((t) => best.get(t)! >= top * 0.97)!;
  return { threads, tokensPerSecond: Object.fromEntries([...best].map(([t, r]) => [String(t), Math.round(r * 10) / 10])) };
}
