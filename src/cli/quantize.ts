/** `edged quantize IN.gguf OUT.gguf --type T [--threads N]`: llama.cpp's quantizer, with progress. */
import { stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { FILE_TYPES } from "../quantize/fileTypes.js";
import { quantize } from "../quantize/quantizer.js";
import { progressLine } from "./progress.js";
import { UsageError } from "./usage.js";

const USAGE = "usage: edged quantize IN.gguf OUT.gguf --type TYPE [--threads N]";

export async function quantizeCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { type: { type: "string", short: "t" }, threads: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return void console.log(`${USAGE}\ntypes: ${Object.keys(FILE_TYPES).join(", ")}`);
  const [input, output] = positionals;
  if (!input || !output || !values.type || positionals.length > 2) throw new UsageError(USAGE);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) throw new UsageError(`--threads must be a positive integer, got "${values.threads}"`);
  const bar = progressLine(`quantize ${values.type.toUpperCase()}`);
  const started = performance.now();
  try {
    await quantize(input, output, { type: values.type, threads, onProgress: (p) => bar.update(p.index, p.total, p.tensor) });
  } finally {
    bar.end();
  }
  const [inSize, outSize] = await Promise.all([stat(input), stat(output)]).then((s) => s.map((x) => x.size / 2 ** 20));
  console.log(`${output}: ${outSize!.toFixed(2)} MiB (from ${inSize!.toFixed(2)} MiB) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
}
