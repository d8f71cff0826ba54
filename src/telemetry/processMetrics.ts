/**
 * The daemon process's own footprint, under the names Prometheus clients use (prom-client's defaults): resident
 * memory, V8 heap and external memory, open file descriptors and threads. A week-long run is judged by their trend.
 * Descriptors and threads are read from /proc, so they are absent where there is none. The heap in use swings by
 * tens of MiB between collections, so the heap left after the last full collection is kept too: its trend is
 * what a leak shows in. Beside resident memory, what makes it up: V8's committed heap, and malloc's bytes in use
 * and the free bytes its arenas hold (glibc only), so a growth can be told apart as the heap, a native leak or
 * fragmentation.
 */
import { readdirSync, readFileSync } from "node:fs";
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { mallocStats } from "../allocator.js";
import { Gauge, type Labels, type Registry } from "./metrics.js";

const fromProc = (read: () => number) => (): number | [Labels, number][] => {
  try {
    return read();
  } catch {
    return [];
  }
};
/** An absent series where the allocator does not report. */
const fromMalloc = (pick: (stats: NonNullable<ReturnType<typeof mallocStats>>) => number) => (): number | [Labels, number][] => {
  const stats = mallocStats();
  return stats ? pick(stats) : [];
};
const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);

/** Heap in use as each full (mark-sweep) collection is reported; read when the observer runs, just after it. */
function heapAfterFullCollections(): () => number {
  let bytes = process.memoryUsage().heapUsed;
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((e) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) bytes = process.memoryUsage().heapUsed;
  });
  observer.observe({ entryTypes: ["gc"] });
  return () => bytes;
}

export function registerProcessMetrics(registry: Registry): void {
  registry.add(new Gauge("process_resident_memory_bytes", "Resident memory of the daemon", () => process.memoryUsage.rss()));
  registry.add(new Gauge("nodejs_heap_size_used_bytes", "V8 heap in use", () => process.memoryUsage().heapUsed));
  registry.add(new Gauge("nodejs_heap_size_total_bytes", "V8 heap committed", () => process.memoryUsage().heapTotal));
  registry.add(new Gauge("nodejs_heap_used_after_gc_bytes", "V8 heap in use after the last full collection", heapAfterFullCollections()));
  registry.add(new Gauge("nodejs_external_memory_bytes", "Memory of C++ objects bound to JavaScript (buffers, native handles)", () => process.memoryUsage().external));
  registry.add(new Gauge("edged_malloc_in_use_bytes", "Bytes malloc has handed out (arena chunks and mmapped blocks)", fromMalloc((s) => s.inUse)));
  registry.add(new Gauge("edged_malloc_held_free_bytes", "Free bytes malloc's arenas hold without returning them (fragmentation)", fromMalloc((s) => s.heldFree)));
  registry.add(new Gauge("process_open_fds", "Open file descriptors", fromProc(() => readdirSync("/proc/self/fd").length)));
  registry.add(new Gauge("process_threads", "Threads of the daemon process (llama.cpp, onnxruntime, libuv, V8)", fromProc(threads)));
}
