/** `edged bench NAME [options]`: runs one of the benchmarks in benchmarks/, each loaded only when asked for. */
import { UsageError } from "./usage.js";

interface Benchmark {
  description: string;
  load: () => Promise<(argv: string[]) => Promise<void>>;
}

const BENCHMARKS: Record<string, Benchmark> = {
  quant: {
    description: "quantize an F16 GGUF to several types and compare size, speed, memory, perplexity and KL; and the ONNX fp32 vs 4-bit embedders",
    load: async () => (await import("../../benchmarks/quant.js")).runQuantBench,
  },
  server: {
    description: "the daemon against in-process node-llama-cpp (TTFT, decode), then 1, 4 and 16 concurrent clients",
    load: async () => (await import("../../benchmarks/server.js")).runServerBench,
  },
  peer: {
    description: "edged against llama.cpp's own llama-server on the same GGUFs (bundled, 140M, 500M): TTFT, decode, 4 and 16 clients, ratios",
    load: async () => (await import("../../benchmarks/peer.js")).runPeerBench,
  },
  scheduler: {
    description: "interactive latency alone and beside batch work, without and with priorities; prefix reuse; deadline refusals",
    load: async () => (await import("../../benchmarks/scheduler.js")).runSchedulerBench,
  },
  memory: {
    description: "the audited memory: write, rollback, forget+verify, search latencies and database size at growing sizes",
    load: async () => (await import("../../benchmarks/memory.js")).runMemoryBench,
  },
  router: {
    description: "the router's decision overhead; a mixed workload with 30-500 ms budgets: router vs always-local vs always-cloud",
    load: async () => (await import("../../benchmarks/router.js")).runRouterBench,
  },
  models: {
    description: "your own models: sha256 speed against sha256sum, adding 1 GB in place, startup with 50 registered models",
    load: async () => (await import("../../benchmarks/models.js")).runModelsBench,
  },
  surfaces: {
    description: "what each API surface (Responses, Messages, Ollama) adds to TTFT over chat completions; previous_response_id continuations",
    load: async () => (await import("../../benchmarks/surfaces.js")).runSurfacesBench,
  },
  tools: {
    description: "tool calling on the device: validity of sampled calls, TTFT with tools against none, time to the first argument fragment",
    load: async () => (await import("../../benchmarks/tools.js")).runToolsBench,
  },
  soak: {
    description: "a week in an hour: steady mixed load against the daemon, memory, descriptors and disk sampled, second-half slopes bounded",
    load: async () => (await import("../../benchmarks/soak.js")).runSoakBench,
  },
  online: {
    description: "what online evaluation (eval.online) costs interactive TTFT, sampling against off in alternating rounds",
    load: async () => (await import("../../benchmarks/online.js")).runOnlineBench,
  },
  console: {
    description: "the console in Chromium: its size, the overview's first paint, and long tasks while the daemon serves streaming clients",
    load: async () => (await import("../../benchmarks/console.js")).runConsoleBench,
  },
  offline: {
    description: "the offline queue: requests deferred while the cloud is down, replayed through SIGKILLs; lost, duplicated, throughput",
    load: async () => (await import("../../benchmarks/offline.js")).runOfflineBench,
  },
};

const USAGE = `usage: edged bench <benchmark> [options]
benchmarks:
${Object.entries(BENCHMARKS)
  .map(([name, b]) => `  ${name.padEnd(10)}${b.description}`)
  .join("\n")}
run \`edged bench <benchmark> --help\` for one benchmark`;

export async function benchCommand(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    if (!name) throw new UsageError(USAGE);
    return void console.log(USAGE);
  }
  const benchmark = BENCHMARKS[name];
  if (!benchmark) throw new UsageError(`unknown benchmark "${name}"\n${USAGE}`);
  await (await benchmark.load())(rest);
}
