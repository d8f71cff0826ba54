/**
 * A data directory on a filesystem of its own, a few MiB large: the daemon runs in a private mount namespace
 * (unshare, as root or as a user with user namespaces) where a tmpfs is mounted over its data directory. The test
 * reaches that filesystem through /proc/PID/root, to fill it up and free it again.
 */
import { spawnSync } from "node:child_process";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";

/** Why a small filesystem cannot be made here, or undefined when it can. */
export function smallDiskUnavailable(): string | undefined {
  const probe = spawnSync("unshare", ["-rm", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], { encoding: "utf8" });
  if (probe.error) return `unshare is not available: ${probe.error.message}`;
  return probe.status === 0 ? undefined : `cannot mount a tmpfs in a private namespace: ${probe.stderr.trim()}`;
}

/** The command prefix that runs a daemon with a tmpfs of `mib` MiB over its data directory. */
export const onSmallDisk = (mib: number) => (dataDir: string) => [
  "unshare", "-rm", "--propagation", "private", "sh", "-c", `mount -t tmpfs -o size=${mib}m tmpfs "$0" && exec "$@"`, dataDir,
];

/** The daemon's data directory as the test sees it. */
export const seenFrom = (pid: number, dataDir: string) => join(`/proc/${pid}/root`, dataDir);

/** Writes a file until the filesystem refuses more (ENOSPC); returns its path. */
export async function fill(dir: string): Promise<string> {
  const path = join(dir, "filler");
  const file = await open(path, "w");
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) await file.write(block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    await file.close().catch(() => undefined);
  }
  // the last partial block may leave a few bytes: take them too
  const rest = await open(path, "a");
  try {
    for (let size = 4096; size >= 1; size = Math.floor(size / 2)) await rest.write(Buffer.alloc(size)).catch(() => undefined);
  } finally {
    await rest.close().catch(() => undefined);
  }
  return path;
}

export const free = (filler: string) => rm(filler);
