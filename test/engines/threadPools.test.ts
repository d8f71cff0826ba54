/**
 * Persistent llama.cpp thread pools (native/threadpool.c): every context node-llama-cpp creates gets one, it is
 * freed with its context, and generation through pooled contexts works with one thread and with two.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { LlamaChatModel } from "../../src/engines/llama/chatModel.js";
import { llamaRuntime } from "../../src/engines/llama/runtime.js";
import { loadThreadPools } from "../../src/engines/llama/threadPools.js";
import { MODELS } from "../helpers/paths.js";

const linux = process.platform === "linux";

test("each context gets a pool, freed with it; generation works with pools of 1 and of 2 threads", { skip: !linux && "thread pools are interposed on Linux only" }, async () => {
  const llama = await llamaRuntime();
  const pools = loadThreadPools();
  assert.ok(pools, "the thread-pool addon is built at install");
  const before = pools.attachedPools();
  const texts: string[] = [];
  for (const threads of [1, 2]) {
    const model = await LlamaChatModel.load(llama, join(MODELS, "edged-kjv-Q4_K_M.gguf"), { threads, gpuLayers: 0, slots: 3, interactiveSlots: 1, prefixReuse: true, flashAttention: true });
    try {
      assert.equal(pools.attachedPools(), before + 2, "the shared context and the interactive one");
      const result = await model.generate({
        prompt: model.renderChat([{ role: "user", content: "Who was Moses?" }]),
        maxTokens: 24,
        sampling: { temperature: 0, topP: 1 },
        stop: [],
        signal: new AbortController().signal,
      });
      assert.ok(result.completionTokens > 0);
      texts.push(result.text);
    } finally {
      await model.dispose();
    }
    assert.equal(pools.attachedPools(), before);
  }
  assert.ok(texts[0]!.length > 0);
});
