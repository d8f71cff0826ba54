/**
 * The bundled model manifest (`models/manifest.json`): the models edged ships, where each file is and its
 * checksum. Read-only; its entries join the catalogue as the "bundled" source.
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { EX_CONFIG } from "../exitCodes.js";
import { Device, ModelEntry } from "./entry.js";

export { Device, ModelEntry, LlamaModelEntry, OnnxModelEntry } from "./entry.js";

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

export const ManifestFileEntry = z.discriminatedUnion("engine", [
  z.object({ ...common, engine: z.literal("llama"), contextSize: z.number().int().positive() }),
  z.object({
    ...common,
    engine: z.literal("onnx"),
    task: z.literal("embedding"),
    dimensions: z.number().int().positive(),
    tokenizer: z.object({ kind: z.literal("word-hash"), buckets: z.number().int().min(2), maxLength: z.number().int().positive() }),
  }),
]);

export const Manifest = z
  .object({
    defaults: z.object({ chat: z.string(), embedding: z.string().optional() }),
    models: z.array(ManifestFileEntry).min(1),
  })
  .refine((m) => new Set(m.models.map((e) => e.id)).size === m.models.length, { message: "model ids must be unique" })
  .refine((m) => m.models.some((e) => e.id === m.defaults.chat && e.engine === "llama"), { message: "defaults.chat must name a llama model" })
  .refine((m) => !m.defaults.embedding || m.models.some((e) => e.id === m.defaults.embedding), { message: "defaults.embedding must name a model" });

/** An entry as the manifest file spells it (`file` relative to the manifest). */
export type ManifestFileEntry = z.input<typeof ManifestFileEntry>;

export interface LoadedManifest {
  path: string;
  defaults: { chat: string; embedding?: string };
  models: ModelEntry[];
}

/** The manifest shipped with edged, beside the bundled models. */
export const BUNDLED_MANIFEST = resolve(dirname(fileURLToPath(import.meta.url)), "../../../models/manifest.json");

export class ManifestError extends Error {
  override name = "ManifestError";
  readonly exitCode = EX_CONFIG;
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
  const models = parsed.data.models.map(({ file, ...entry }) =>
    ModelEntry.parse({ ...entry, path: isAbsolute(file) ? file : resolve(base, file), source: { kind: "bundled", detail: path } }),
  );
  return { path, defaults: parsed.data.defaults, models };
}
