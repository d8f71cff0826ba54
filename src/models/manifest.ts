/** The model manifest (`models/manifest.json`): what edged can serve, where the file is, and its checksum. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const Device = z.enum(["npu", "gpu", "cpu"]);
export type Device = z.infer<typeof Device>;

const common = {
  /** The name clients send as `model`, e.g. `edged-kjv:q4_k_m`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*(:[a-z0-9._-]+)?$/, "lower-case name[:tag]"),
  /** Relative to the manifest's folder. */
  file: z.string().min(1),
  quant: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  devices: z.array(Device).min(1).default(["gpu", "cpu"]),
  /** Number of weights, for listings such as Ollama's `parameter_size`. */
  parameters: z.number().int().positive().optional(),
  description: z.string().optional(),
};

export const LlamaModelEntry = z.object({
  ...common,
  engine: z.literal("llama"),
  contextSize: z.number().int().positive(),
});

export const OnnxModelEntry = z.object({
  ...common,
  engine: z.literal("onnx"),
  task: z.literal("embedding"),
  dimensions: z.number().int().positive(),
  tokenizer: z.object({ kind: z.literal("word-hash"), buckets: z.number().int().min(2), maxLength: z.number().int().positive() }),
});

export const ModelEntry = z.discriminatedUnion("engine", [LlamaModelEntry, OnnxModelEntry]);
export type ModelEntry = z.infer<typeof ModelEntry>;
export type LlamaModelEntry = z.infer<typeof LlamaModelEntry>;
export type OnnxModelEntry = z.infer<typeof OnnxModelEntry>;

export const Manifest = z
  .object({
    defaults: z.object({ chat: z.string(), embedding: z.string().optional() }),
    models: z.array(ModelEntry).min(1),
  })
  .refine((m) => new Set(m.models.map((e) => e.id)).size === m.models.length, { message: "model ids must be unique" })
  .refine((m) => m.models.some((e) => e.id === m.defaults.chat && e.engine === "llama"), { message: "defaults.chat must name a llama model" })
  .refine((m) => !m.defaults.embedding || m.models.some((e) => e.id === m.defaults.embedding), { message: "defaults.embedding must name a model" });
export type Manifest = z.infer<typeof Manifest>;

export interface LoadedManifest extends Manifest {
  /** Absolute path of each model's file. */
  pathOf(entry: ModelEntry): string;
}

/** The manifest shipped with edged, beside the bundled models. */
export const BUNDLED_MANIFEST = resolve(dirname(fileURLToPath(import.meta.url)), "../../../models/manifest.json");

export class ManifestError extends Error {
  override name = "ManifestError";
}

export async function loadManifest(path = BUNDLED_MANIFEST): Promise<LoadedManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new ManifestError(`cannot read model manifest ${path}: ${(error as Error).message}`);
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ManifestError(`invalid model manifest ${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const base = dirname(path);
  return { ...parsed.data, pathOf: (entry) => (isAbsolute(entry.file) ? entry.file : resolve(base, entry.file)) };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export class ModelIntegrityError extends Error {
  override name = "ModelIntegrityError";
}

/** Refuses a model file that is missing, or whose size or sha256 is not the manifest's. */
export async function verifyModelFile(manifest: LoadedManifest, entry: ModelEntry): Promise<string> {
  const path = manifest.pathOf(entry);
  const size = await stat(path).then((s) => s.size, () => undefined);
  if (size === undefined) throw new ModelIntegrityError(`file not found: ${path}`);
  if (size !== entry.bytes) throw new ModelIntegrityError(`${path} is ${size} bytes, the manifest says ${entry.bytes}`);
  const digest = await sha256File(path);
  if (digest !== entry.sha256) throw new ModelIntegrityError(`sha256 of ${path} is ${digest}, the manifest says ${entry.sha256}`);
  return path;
}
