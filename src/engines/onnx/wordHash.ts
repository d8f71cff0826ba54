/**
 * The embedder's tokenizer: lower-cased words hashed with 32-bit FNV-1a into buckets (the "hashing trick").
 * It must match `encode` in models/training/train_embedder.py exactly.
 */
const WORD = /[a-z0-9']+/g;
const encoder = new TextEncoder();

function fnv1a(word: string): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(word)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

export interface WordHashOptions {
  buckets: number;
  maxLength: number;
}

/** Token ids in 1..buckets-1 (0 is padding); an input without words becomes the empty word's id. */
export function encodeWords(text: string, { buckets, maxLength }: WordHashOptions): number[] {
  const words = text.toLowerCase().match(WORD) ?? [""];
  return words.slice(0, maxLength).map((w) => 1 + (fnv1a(w) % (buckets - 1)));
}
