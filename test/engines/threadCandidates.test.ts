/** The thread counts measured at first load: one, powers of two, and the cores and one less. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { threadCandidates } from "../../src/engines/llama/threadTuner.js";

test("one thread, powers of two below the cores, the cores and one less", () => {
  assert.deepEqual(threadCandidates(1), [1]);
  assert.deepEqual(threadCandidates(2), [1, 2]);
  assert.deepEqual(threadCandidates(4), [1, 2, 3, 4]);
  assert.deepEqual(threadCandidates(8), [1, 2, 4, 7, 8]);
  assert.deepEqual(threadCandidates(16), [1, 2, 4, 8, 15, 16]);
});
