/**
 * Int8 embeddings in one contiguous array for brute-force cosine search (the vectors are unit length, so the
 * dot product is the cosine up to the 127² scale). Removal swaps the last row in, so the array stays dense.
 */
export class VectorIndex {
  private data: Int8Array;
  private keys: number[] = [];
  private readonly position = new Map<number, number>();

  constructor(readonly dimensions: number, capacity = 1024) {
    this.data = new Int8Array(capacity * dimensions);
  }

  get size(): number {
    return this.keys.length;
  }

  set(key: number, vector: Int8Array): void {
    if (vector.length !== this.dimensions) throw new Error(`vector of ${vector.length} values for a ${this.dimensions}-dimensional index`);
    let row = this.position.get(key);
    if (row === undefined) {
      row = this.keys.length;
      if ((row + 1) * this.dimensions > this.data.length) {
        const grown = new Int8Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
      this.keys.push(key);
      this.position.set(key, row);
    }
    this.data.set(vector, row * this.dimensions);
  }

  delete(key: number): void {
    const row = this.position.get(key);
    if (row === undefined) return;
    const last = this.keys.length - 1;
    if (row !== last) {
      this.data.copyWithin(row * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
      const moved = this.keys[last]!;
      this.keys[row] = moved;
      this.position.set(moved, row);
    }
    this.data.fill(0, last * this.dimensions, (last + 1) * this.dimensions); // no copy of a forgotten vector stays in memory
    this.keys.pop();
    this.position.delete(key);
  }

  /** The k best keys by cosine, optionally among `allowed` keys only. */
  search(query: Int8Array, k: number, allowed?: ReadonlySet<number>): { key: number; score: number }[] {
    const d = this.dimensions;
    const best: { key: number; score: number }[] = [];
    const q = Int32Array.from(query);
    for (let row = 0; row < this.keys.length; row++) {
      const key = this.keys[row]!;
      if (allowed && !allowed.has(key)) continue;
      let dot = 0;
      const base = row * d;
      for (let i = 0; i < d; i++) dot += q[i]! * this.data[base + i]!;
      if (best.length < k || dot > best[best.length - 1]!.score) {
        best.push({ key, score: dot });
        best.sort((a, b) => b.score - a.score);
        if (best.length > k) best.pop();
      }
    }
    return best.map((b) => ({ key: b.key, score: b.score / (127 * 127) }));
  }
}
