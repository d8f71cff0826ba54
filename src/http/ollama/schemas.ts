/** The Ollama wire format edged accepts (the subset desktop apps use), as zod schemas. */
import { z } from "zod";
import { Duration } from "../../config/duration.js";

/** Ollama's runtime options; unknown ones are ignored, as Ollama itself does. */
export const Options = z.object({
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  seed: z.number().int().optional(),
  /** -1: until the model stops or the context is full; -2: fill the context. */
  num_predict: z.number().int().min(-2).refine((n) => n !== 0, "num_predict must not be 0").optional(),
  num_ctx: z.number().int().positive().optional(),
  stop: z.array(z.string().min(1)).optional(),
  presence_penalty: z.number().min(-2).max(2).optional(),
  frequency_penalty: z.number().min(-2).max(2).optional(),
});
export type Options = z.infer<typeof Options>;

const Format = z.union([z.literal("json"), z.literal(""), z.record(z.string(), z.unknown())]);

const common = {
  model: z.string().min(1, "model is required"),
  stream: z.boolean().default(true),
  format: Format.optional(),
  options: Options.default({}),
  keep_alive: Duration.optional(),
  logprobs: z.boolean().optional(),
  top_logprobs: z.number().int().min(0).max(20).optional(),
};

const ToolCall = z.object({ function: z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()) }) });
const Tool = z.object({
  type: z.literal("function"),
  function: z.object({ name: z.string().min(1), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
});

export const ChatRequest = z.object({
  ...common,
  messages: z.array(
    z.object({
      role: z.enum(["system", "user", "assistant", "tool"], { message: "role must be one of system, user, assistant, tool" }),
      content: z.string().default(""),
      images: z.array(z.string()).max(0, "images are not supported by this model").optional(),
      tool_calls: z.array(ToolCall).optional(),
      tool_name: z.string().optional(),
    }),
  ).default([]),
  tools: z.array(Tool).optional(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

export const GenerateRequest = z.object({
  ...common,
  prompt: z.string().default(""),
  system: z.string().optional(),
  raw: z.boolean().default(false),
  suffix: z.literal("", { message: "suffix is not supported" }).optional(),
  images: z.array(z.string()).max(0, "images are not supported by this model").optional(),
});
export type GenerateRequest = z.infer<typeof GenerateRequest>;

export const EmbedRequest = z.object({
  model: z.string().min(1, "model is required"),
  input: z.union([z.string(), z.array(z.string()).min(1, "input must not be empty")]).transform((i) => (typeof i === "string" ? [i] : i)),
  truncate: z.boolean().default(true),
  keep_alive: Duration.optional(),
});



/** A model named by `model` or, as older clients send it, `name`. */
const name = { model: z.string().min(1).optional(), name: z.string().min(1).optional() };
const hasName = (r: { model?: string; name?: string }) => Boolean(r.model ?? r.name);
const needsName = { message: "model is required", path: ["model"] };
export const modelNameOf = (r: { model?: string; name?: string }) => (r.model ?? r.name)!;

export const PullRequest = z.object({ ...name, insecure: z.boolean().optional(), stream: z.boolean().default(true) }).refine(hasName, needsName);

export const DeleteRequest = z.object(name).refine(hasName, needsName);

export const CopyRequest = z.object({ source: z.string().min(1, "source is required"), destination: z.string().min(1, "destination is required") });

const Digest = z.string().regex(/^sha256[:-][0-9a-f]{64}$/, 'a digest is "sha256:" and 64 hex digits');

export const CreateRequest = z
  .object({
    ...name,
    from: z.string().min(1).optional(),
    files: z.record(z.string().min(1), Digest).optional(),
    template: z.string().optional(),
    system: z.string().optional(),
    parameters: z
      .object({
        stop: z.union([z.string(), z.array(z.string())]).optional(),
        temperature: z.number().min(0).max(2).optional(),
        top_p: z.number().gt(0).max(1).optional(),
        top_k: z.number().int().min(0).optional(),
        num_ctx: z.number().int().positive().optional(),
      })
      .passthrough()
      .optional(),
    license: z.union([z.string(), z.array(z.string())]).optional(),
    messages: z.array(z.unknown()).max(0, "messages are not supported by create").optional(),
    adapters: z.record(z.string(), z.string()).refine((a) => Object.keys(a).length === 0, "adapters are not supported").optional(),
    quantize: z.undefined({ message: "quantize is not supported by create: use edged quantize, then create from its output" }).optional(),
    stream: z.boolean().default(true),
  })
  .refine(hasName, needsName)
  .refine((r) => (r.from === undefined) !== (r.files === undefined), { message: "give exactly one of from and files", path: ["files"] });
export type CreateRequest = z.infer<typeof CreateRequest>;

export const BlobDigest = Digest;

export const ShowRequest = z.object(name).refine(hasName, needsName);
