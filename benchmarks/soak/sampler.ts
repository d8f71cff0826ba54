/**
 * What a soak watches, sampled from outside the daemon: resident memory and threads from /proc/PID/status, open
 * descriptors from /proc/PID/fd; from its /metrics V8's heap (after its last full collection, and committed), external
 * memory, and malloc's bytes in use and held free (what a resident-memory growth is made of); the data directory's
 * size and its write-ahead logs. Linux only (the soak says so elsewhere).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export const SERIES = {
  rssMiB: { title: "Resident memory", unit: "MiB" },
  heapMiB: { title: "V8 heap after full GC", unit: "MiB" },
  heapCommittedMiB: { title: "V8 heap committed", unit: "MiB" },
  mallocInUseMiB: { title: "malloc in use", unit: "MiB" },
  mallocFreeMiB: { title: "malloc free, held", unit: "MiB" },
  externalMiB: { title: "External memory", unit: "MiB" },
  fds: { title: "Open file descriptors", unit: "count" },
  threads: { title: "Threads", unit: "count" },
  dataDirMiB: { title: "Data directory", unit: "MiB" },
  walMiB: { title: "Write-ahead logs", unit: "MiB" },
} as const;
export type SeriesName = keyof typeof SERIES;
export type Sample = { minutes: number } & Record<SeriesName, number>;

const MiB = 2 ** 20;

async function treeBytes(dir: string): Promise<{ total: number; wal: number }> {
  let total = 0;
  let wal = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = await treeBytes(path);
      total += sub.total;
      wal += sub.wal;
    } else if (entry.isFile()) {
      const size = (await stat(path).catch(() => undefined))?.size ?? 0;
      total += size;
      if (entry.name.endsWith("-wal")) wal += size;
    }
  }
  return { total, wal };
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);

export async function sample(pid: number, url: string, dataDir: string, startedAt: number): Promise<Sample> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const disk = await treeBytes(dataDir);
  return {
    minutes: (performance.now() - startedAt) / 60_000,
    rssMiB: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024,
    heapMiB: metric(metrics, "nodejs_heap_used_after_gc_bytes") / MiB,
    heapCommittedMiB: metric(metrics, "nodejs_heap_size_total_bytes") / MiB,
    mallocInUseMiB: metric(metrics, "edged_malloc_in_use_bytes") / MiB,
    mallocFreeMiB: metric(metrics, "edged_malloc_held_free_bytes") / MiB,
    externalMiB: metric(metrics, "nodejs_external_memory_bytes") / MiB,
    fds: (await readdir(`/proc/${pid}/fd`)).length,
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]),
    dataDirMiB: disk.total / MiB,
    walMiB: disk.wal / MiB,
  };
}
