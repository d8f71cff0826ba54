import assert from "node:assert/strict";
import { test } from "node:test";
import { VectorIndex } from "../../src/memory/vectorIndex.js";

const v = (...xs: number[]) => Int8Array.from(xs);

test("finds the nearest vectors, grows past its capacity, and stays correct after removals", () => {
  const index = new VectorIndex(2, 1);
  index.set(1, v(127, 0));
  index.set(2, v(0, 127));
  index.set(3, v(90, 90));
  index.set(4, v(-127, 0));
  assert.equal(index.size, 4);
  assert.deepEqual(index.search(v(127, 0), 2).map((h) => h.key), [1, 3]);
  assert.ok(Math.abs(index.search(v(127, 0), 1)[0]!.score - 1) < 1e-9);
  index.delete(1); // the last row moves into its place
  assert.deepEqual(index.search(v(127, 0), 4).map((h) => h.key), [3, 2, 4]);
  index.set(3, v(-90, -90)); // overwrite in place
  assert.deepEqual(index.search(v(127, 0), 1).map((h) => h.key), [2]);
  assert.deepEqual(index.search(v(0, 127), 3, new Set([3, 4])).map((h) => h.key), [4, 3]);
  assert.throws(() => index.set(9, v(1, 2, 3)), /3 values for a 2-dimensional index/);
});
