/**
 * Persistent llama.cpp thread pools: loads native/threadpool.c's addon into the global symbol scope before
 * node-llama-cpp's addon is loaded, so that every context it creates gets a pool whose workers live as long as
 * the context (node-llama-cpp attaches none, and ggml then creates and joins its threads for every graph).
 * Linux only; elsewhere, or when the addon is not built, contexts keep ggml's own behaviour.
 */
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { nativeAddonPath } from "../../nativeAddons.js";

export interface ThreadPools {
  /** Contexts with a pool attached now. */
  attachedPools(): number;
}

let loaded: ThreadPools | undefined;

/** Must run before node-llama-cpp's addon is first loaded; later calls return the same handle. */
export function loadThreadPools(): ThreadPools | undefined {
  if (loaded || process.platform !== "linux") return loaded;
  const path = nativeAddonPath("edged_threadpool");
  if (!existsSync(path)) return undefined;
  const module = { exports: {} as ThreadPools };
  process.dlopen(module, path, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
  loaded = module.exports;
  return loaded;
}
