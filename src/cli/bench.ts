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
};

const USAGE = `usage: edged bench <benchmark> [options]
benchmarks:
${Object.entries(BENCHMARKS)
  .map(([name, b]) => `  ${name.padEnd(8)}${b.description}`)
  .join("\n")}
run \`edged bench <benchmark> --help\` for a benchmark's options`;

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
