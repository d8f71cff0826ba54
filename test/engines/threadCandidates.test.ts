/** The thread counts measured at first load: powers of two and one less than the cores, never all of them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { threadCandidates } from "../../src/engines/llama/threadTuner.js";

test("a core is always left to the event loop and the clients", () => {
  assert.deepEqual(threadCandidates(1), [1]);
  assert.deepEqual(threadCandidates(2), [1]);
  assert.deepEqual(threadCandidates(4), [1, 2, 3]);
  assert.deepEqual(threadCandidates(8), [1, 2, 4, 7]);
  assert.deepEqual(threadCandidates(16), [1, 2, 4, 8, 15]);
});
