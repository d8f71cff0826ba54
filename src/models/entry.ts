/**
 * A model a client may name, wherever it came from: the bundled manifest, the user store in the data directory,
 * or a store another tool keeps (Ollama, the Hugging Face cache, LM Studio, a configured folder). Placement,
 * verification and loading read only this shape.
 */
import { z } from "zod";

export const Device = z.enum(["npu", "gpu", "cpu"]);
export type Device = z.infer<typeof Device>;

/** Ollama's `name:tag` convention, lower case; a name may carry a namespace or host (`hf.co/org/repo:q4_k_m`). */
export const ModelId = z.string().regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*(:[a-z0-9._-]+)?$/, "lower-case name[:tag] (letters, digits, . _ - and / between parts)");

export const SourceKind = z.enum(["bundled", "user", "ollama", "huggingface", "lmstudio", "dir", "hub"]);
export type SourceKind = z.infer<typeof SourceKind>;

export const ModelSource = z.object({
  kind: SourceKind,
  /** Where: the store's folder, the hub repository and file, the path the user added. */
  detail: z.string(),
  /** The file is edged's own copy (or link) in DATA_DIR/models/blobs: removing the entry deletes it. */
  owned: z.boolean().default(false),
});
export type ModelSource = z.infer<typeof ModelSource>;

/** What a GGUF header says, read without loading the model. */
export const GgufFacts = z.object({
  architecture: z.string(),
  name: z.string().optional(),
  parameters: z.number().int().nonnegative(),
  /** llama.cpp's file type, e.g. MOSTLY_Q4_K_M, as a quant label such as Q4_K_M. */
  quant: z.string(),
  trainedContext: z.number().int().positive().optional(),
  layers: z.number().int().nonnegative(),
  hasChatTemplate: z.boolean(),
  /** Every metadata key but the tokenizer's long arrays, for Ollama's /api/show model_info. */
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type GgufFacts = z.infer<typeof GgufFacts>;

/** Sampling and prompt defaults a store attaches to a model (Ollama's params and system layers). */
export const ModelDefaults = z.object({
  system: z.string().optional(),
  stop: z.array(z.string()).optional(),
  temperature: z.number().optional(),
  topP: z.number().optional(),
  topK: z.number().int().optional(),
  contextSize: z.number().int().positive().optional(),
});
export type ModelDefaults = z.infer<typeof ModelDefaults>;

/** A chat template chosen instead of the file's own: a Jinja file given on add, or Ollama's template layer. */
export const TemplateOverride = z.object({ kind: z.enum(["jinja", "ollama"]), text: z.string().min(1), from: z.string() });
export type TemplateOverride = z.infer<typeof TemplateOverride>;

const common = {
  id: ModelId,
  /** Absolute path of the model file. */
  path: z.string().min(1),
  bytes: z.number().int().positive(),
  /** The file's sha256 when it is known (recorded on add, named by the store); checked before the file is read. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  quant: z.string().min(1),
  devices: z.array(Device).min(1).default(["gpu", "cpu"]),
  parameters: z.number().int().positive().optional(),
  description: z.string().optional(),
  source: ModelSource,
};

export const LlamaModelEntry = z.object({
  ...common,
  engine: z.literal("llama"),
  contextSize: z.number().int().positive(),
  gguf: GgufFacts.optional(),
  template: TemplateOverride.optional(),
  defaults: ModelDefaults.default({}),
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
