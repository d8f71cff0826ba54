/**
 * The daemon process's own footprint, under the names Prometheus clients use (prom-client's defaults): resident
 * memory, V8 heap and external memory, open file descriptors and threads. A week-long run is judged by their trend.
 * Descriptors and threads are read from /proc, so they are absent where there is none.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Gauge, type Labels, type Registry } from "./metrics.js";

const fromProc = (read: () => number) => (): number | [Labels, number][] => {
  try {
    return read();
  } catch {
    return [];
  }
};
const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);

export function registerProcessMetrics(registry: Registry): void {
  registry.add(new Gauge("process_resident_memory_bytes", "Resident memory of the daemon", () => process.memoryUsage.rss()));
  registry.add(new Gauge("nodejs_heap_size_used_bytes", "V8 heap in use", () => process.memoryUsage().heapUsed));
  registry.add(new Gauge("nodejs_external_memory_bytes", "Memory of C++ objects bound to JavaScript (buffers, native handles)", () => process.memoryUsage().external));
  registry.add(new Gauge("process_open_fds", "Open file descriptors", fromProc(() => readdirSync("/proc/self/fd").length)));
  registry.add(new Gauge("process_threads", "Threads of the daemon process (llama.cpp, onnxruntime, libuv, V8)", fromProc(threads)));
}
