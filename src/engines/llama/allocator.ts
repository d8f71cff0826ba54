/**
 * A fixed mmap threshold for the process's malloc (native/allocator.c): without it, glibc's adjusting threshold
 * puts a reloaded model's large buffers in the heap arenas, and a daemon that loads and unloads models grows
 * without bound. Linux with glibc only; elsewhere, or when the addon is not built, nothing changes.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { nativeAddonPath } from "../../nativeAddons.js";

/** glibc's own starting threshold, kept instead of being raised by every large free. */
const THRESHOLD_BYTES = 128 * 1024;

let pinned: boolean | undefined;

/** True when the threshold is pinned; runs once. */
export function pinMmapThreshold(): boolean {
  if (pinned !== undefined) return pinned;
  const path = nativeAddonPath("edged_allocator");
  pinned = process.platform === "linux" && existsSync(path) && (createRequire(import.meta.url)(path) as { pinMmapThreshold(bytes: number): boolean }).pinMmapThreshold(THRESHOLD_BYTES);
  return pinned;
}
