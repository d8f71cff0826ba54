import assert from "node:assert/strict";
import { test } from "node:test";
import { VectorIndex } from "../../src/memory/vectorIndex.js";

const v = (...xs: number[]) => Int8Array.from(xs);
const keys = (hits: { key: number }[]) => hits.map((h) => h.key);

test("finds the nearest vectors, grows past its capacity, and stays correct after removals", async () => {
  const index = new VectorIndex(2, 1);
  index.set(1, v(127, 0));
  index.set(2, v(0, 127));
  index.set(3, v(90, 90));
  index.set(4, v(-127, 0));
  assert.equal(index.size, 4);
  assert.deepEqual(keys(await index.search(v(127, 0), 2)), [1, 3]);
  assert.ok(Math.abs((await index.search(v(127, 0), 1))[0]!.score - 1) < 1e-9);
  index.delete(1); // the last row moves into its place
  assert.deepEqual(keys(await index.search(v(127, 0), 4)), [3, 2, 4]);
  index.set(3, v(-90, -90)); // overwrite in place
  assert.deepEqual(keys(await index.search(v(127, 0), 1)), [2]);
  assert.deepEqual(keys(await index.search(v(0, 127), 3, new Set([3, 4]))), [4, 3]);
  assert.throws(() => index.set(9, v(1, 2, 3)), /3 values for a 2-dimensional index/);
});

test("a large index is scanned by onnxruntime and ranks exactly as the JavaScript scan does", async () => {
  const d = 64;
  const index = new VectorIndex(d);
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 255) - 127;
  for (let key = 0; key < 5000; key++) index.set(key, Int8Array.from({ length: d }, next));
  const query = Int8Array.from({ length: d }, next);
  const everyKey = new Set(Array.from({ length: 5000 }, (_, i) => i)); // a filter as wide as the index: the JavaScript scan
  const native = await index.search(query, 10);
  const scalar = await index.search(query, 10, everyKey);
  assert.deepEqual(native, scalar);
  index.delete(native[0]!.key);
  assert.notEqual((await index.search(query, 1))[0]!.key, native[0]!.key);
});
