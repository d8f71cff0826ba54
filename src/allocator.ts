/**
 * The process's malloc (native/allocator.c), Linux with glibc only; elsewhere, or when the addon is not built,
 * nothing changes and nothing is reported.
 * - A fixed mmap threshold: without it, glibc's adjusting threshold puts a reloaded model's large buffers in the
 *   heap arenas, and a daemon that loads and unloads models grows without bound.
 * - malloc's accounting, for /metrics: a growing resident size is a leak when the bytes in use grow, and
 *   fragmentation when the free bytes the arenas hold do.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { nativeAddonPath } from "./nativeAddons.js";

/** glibc's own starting threshold, kept instead of being raised by every large free. */
const THRESHOLD_BYTES = 128 * 1024;

export interface MallocStats {
  /** Bytes handed out: arena chunks in use plus mmapped blocks. */
  inUse: number;
  /** Free bytes inside the arenas, held by the process rather than returned. */
  heldFree: number;
}

interface AllocatorAddon {
  pinMmapThreshold(bytes: number): boolean;
  mallocStats(): MallocStats | null;
}

let addon: AllocatorAddon | null | undefined;

function allocator(): AllocatorAddon | null {
  if (addon !== undefined) return addon;
  const path = nativeAddonPath("edged_allocator");
  addon = process.platform === "linux" && existsSync(path) ? (createRequire(import.meta.url)(path) as AllocatorAddon) : null;
  return addon;
}

let pinned: boolean | undefined;

/** True when the threshold is pinned; runs once. */
export function pinMmapThreshold(): boolean {
  pinned ??= allocator()?.pinMmapThreshold(THRESHOLD_BYTES) ?? false;
  return pinned;
}

/** malloc's accounting now, or null where the allocator does not report it. */
export const mallocStats = (): MallocStats | null => allocator()?.mallocStats() ?? null;
