/**
 * Int8 embeddings in one contiguous array for brute-force cosine search (the vectors are unit length, so the
 * dot product is the cosine up to the 127² scale). Removal swaps the last row in, so the array stays dense.
 */
import { int8Scores } from "./int8Scorer.js";

/** Below this many rows the JavaScript scan beats the cost of a call into onnxruntime. */
const NATIVE_SCAN_ROWS = 2048;

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

  /** Unrolled by 8: the scan is the whole cost of a semantic search. */
  private dot(q: Int32Array, base: number): number {
    const v = this.data;
    const d = this.dimensions;
    let s0 = 0;
    let s1 = 0;
    let i = 0;
    for (; i + 8 <= d; i += 8) {
      const b = base + i;
      s0 += q[i]! * v[b]! + q[i + 1]! * v[b + 1]! + q[i + 2]! * v[b + 2]! + q[i + 3]! * v[b + 3]!;
      s1 += q[i + 4]! * v[b + 4]! + q[i + 5]! * v[b + 5]! + q[i + 6]! * v[b + 6]! + q[i + 7]! * v[b + 7]!;
    }
    for (; i < d; i++) s0 += q[i]! * v[base + i]!;
    return s0 + s1;
  }

  /**
   * The k best keys by cosine, optionally among `allowed` keys only. A large unfiltered scan runs on
   * onnxruntime's int8 GEMV; a narrow filter visits only its own rows here.
   */
  async search(query: Int8Array, k: number, allowed?: ReadonlySet<number>): Promise<{ key: number; score: number }[]> {
    const d = this.dimensions;
    const best: { key: number; score: number }[] = [];
    const keep = (key: number, dot: number) => {
      if (best.length < k || dot > best[best.length - 1]!.score) {
        best.push({ key, score: dot });
        best.sort((a, b) => b.score - a.score);
        if (best.length > k) best.pop();
      }
    };
    const result = () => best.map((b) => ({ key: b.key, score: b.score / (127 * 127) }));
    if (!allowed && this.keys.length >= NATIVE_SCAN_ROWS) {
      const scores = await int8Scores(this.data, this.keys.length, d, query);
      for (let row = 0; row < this.keys.length; row++) keep(this.keys[row]!, scores[row]!);
      return result();
    }
    const q = Int32Array.from(query);
    // a narrow filter visits its own rows; a wide one scans everything and skips the rest
    const rows = allowed && allowed.size < this.keys.length / 4 ? [...allowed].map((k) => this.position.get(k)).filter((r) => r !== undefined) : undefined;
    const count = rows ? rows.length : this.keys.length;
    for (let n = 0; n < count; n++) {
      const row = rows ? rows[n]! : n;
      const key = this.keys[row]!;
      if (!rows && allowed && !allowed.has(key)) continue;
      keep(key, this.dot(q, row * d));
    }
    return result();
  }
}
