/** Quantizes GGUF files with llama.cpp's own `llama_model_quantize`, through edged's N-API addon in native/. */
import { constants } from "node:fs";
import { access, open, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { GGUF_MAGIC } from "../gguf/format.js";
import { nativeAddonPath } from "../nativeAddons.js";
import { fileType } from "./fileTypes.js";

interface QuantizeAddon {
  quantize(input: string, output: string, ftype: number, threads: number, onProgress?: (index: number, total: number, tensor: string) => void): Promise<void>;
}

export interface QuantizeProgress {
  index: number;
  total: number;
  tensor: string;
}

export interface QuantizeOptions {
  type: string;
  /** Quantizer threads; defaults to all cores, since nothing else runs during a quantization. */
  threads?: number;
  onProgress?: (p: QuantizeProgress) => void;
}

export class QuantizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QuantizeError";
  }
}

let addon: QuantizeAddon | undefined;
function loadAddon(): QuantizeAddon {
  if (addon) return addon;
  const path = nativeAddonPath("edged_quantize");
  try {
    addon = createRequire(import.meta.url)(path) as QuantizeAddon;
  } catch (error) {
    throw new QuantizeError(`the quantizer addon is not built (${(error as Error).message}); run \`npm run build:native\``);
  }
  return addon;
}

async function assertGguf(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new QuantizeError(code === "ENOENT" ? `input file not found: ${path}` : `cannot read input ${path}: ${code}`);
  }
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    if (bytesRead < 4 || buffer.readUInt32LE(0) !== GGUF_MAGIC) throw new QuantizeError(`not a GGUF file: ${path}`);
  } finally {
    await handle.close();
  }
}

async function assertWritableDir(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error();
    await access(dir, constants.W_OK);
  } catch {
    throw new QuantizeError(`cannot write the output: ${dir} is not a writable directory`);
  }
}

/** llama.cpp keeps one global log hook, so quantizations in one process run one at a time. */
let tail: Promise<unknown> = Promise.resolve();

/**
 * Quantizes `input` into `output`. The quantizer writes to a temporary file beside the output that is renamed
 * only on success, so a failure leaves no partial output.
 */
export async function quantize(input: string, output: string, options: QuantizeOptions): Promise<void> {
  const type = fileType(options.type);
  if (resolve(input) === resolve(output)) throw new QuantizeError("the output must not be the input file");
  await assertGguf(input);
  await assertWritableDir(output);
  const native = loadAddon();
  const tmp = join(dirname(output), `.${basename(output)}.partial-${process.pid}`);
  const threads = options.threads ?? availableParallelism();
  const run = tail.then(async () => {
    try {
      await native.quantize(input, tmp, type.ftype, threads, options.onProgress && ((index, total, tensor) => options.onProgress!({ index, total, tensor })));
      await rename(tmp, output);
    } catch (error) {
      await rm(tmp, { force: true });
      const hint = type.needsImatrix ? ` (${type.name} needs an importance matrix, which edged does not compute)` : "";
      throw new QuantizeError(`quantizing to ${type.name} failed: ${(error as Error).message}${hint}`);
    }
  });
  tail = run.catch(() => undefined);
  return run;
}
