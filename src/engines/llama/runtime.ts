/**
 * The process's one llama.cpp runtime. `build: "never"`: a missing prebuilt binary is an error, not a compile.
 * Its thread budget is the machine's cores: contexts decoding at once share them instead of oversubscribing them.
 * Models come and go in a long-running process, so malloc's mmap threshold is pinned first (see allocator.ts).
 */
import { availableParallelism } from "node:os";
import { getLlama, type Llama } from "node-llama-cpp";
import { pinMmapThreshold } from "../../allocator.js";
import { loadThreadPools } from "./threadPools.js";

let runtime: Promise<Llama> | undefined;

export function llamaRuntime(): Promise<Llama> {
  loadThreadPools();
  pinMmapThreshold();
  runtime ??= getLlama({ gpu: "auto", build: "never", logLevel: "error" as never, progressLogs: false, maxThreads: availableParallelism() });
  return runtime;
}
