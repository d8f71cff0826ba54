/**
 * Writes models/manifest.json for the bundled models, with each file's size and sha256.
 * Usage: node dist/models/training/write-manifest.js MODELS_DIR
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256OfFile } from "../../src/models/fileHash.js";
import { Manifest, type ManifestFileEntry } from "../../src/models/manifest.js";

const dir = process.argv[2];
if (!dir) throw new Error("usage: write-manifest MODELS_DIR");

/** Parameter counts as the trainers reported them. */
const parameters = async (report: string) => (JSON.parse(await readFile(join(dir, "reports", report), "utf8")) as { parameters: number }).parameters;
const llamaParameters = await parameters("train-llama.json");
const embedParameters = await parameters("train-embedder.json");

type Draft = ManifestFileEntry extends infer E ? (E extends unknown ? Omit<E, "sha256" | "bytes"> : never) : never;
const chat = (quant: string, description: string): Draft => ({
  id: `edged-kjv:${quant.toLowerCase()}`,
  engine: "llama",
  file: `edged-kjv-${quant}.gguf`,
  quant,
  contextSize: 512,
  devices: ["gpu", "cpu"],
  parameters: llamaParameters,
  description,
});
const embed = (quant: string, file: string, description: string): Draft => ({
  id: `edged-embed:${quant}`,
  engine: "onnx",
  task: "embedding",
  file,
  quant,
  dimensions: 256,
  tokenizer: { kind: "word-hash", buckets: 8192, maxLength: 64 },
  devices: ["npu", "gpu", "cpu"],
  parameters: embedParameters,
  description,
});

const drafts: Draft[] = [
  chat("Q4_K_M", "4.5M-parameter llama trained on the King James Bible; 4-bit k-quant (default)"),
  chat("Q4_0", "the same model, legacy 4-bit blocks"),
  chat("Q8_0", "the same model, 8-bit"),
  chat("F16", "the same model, unquantized 16-bit reference"),
  embed("q4", "edged-embed-q4.onnx", "sentence embedder, 4-bit weights (MatMulNBits, GatherBlockQuantized)"),
  embed("fp32", "edged-embed-fp32.onnx", "sentence embedder, float32 reference"),
];

const models = await Promise.all(
  drafts.map(async (d) => ({ ...d, bytes: (await stat(join(dir, d.file))).size, sha256: await sha256OfFile(join(dir, d.file)) })),
);
const manifest = Manifest.parse({ defaults: { chat: "edged-kjv:q4_k_m", embedding: "edged-embed:q4" }, models });
await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`wrote ${join(dir, "manifest.json")} (${models.length} models)`);
