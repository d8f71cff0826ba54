/** The OpenAI wire format edged accepts, as zod schemas; request types are derived from them. */
import { z } from "zod";
import { RoutingOptions } from "../../router/schemas.js";

const nullable = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const Content = z.union([z.string(), z.array(TextPart).min(1)]).transform((c) => (typeof c === "string" ? c : c.map((p) => p.text).join("")));

const ToolCall = z.object({ id: z.string(), type: z.literal("function"), function: z.object({ name: z.string(), arguments: z.string() }) });

export const ChatMessage = z.object({
  // OpenAI's newer name for the system role
  role: z.enum(["system", "developer", "user", "assistant", "tool"], { message: "role must be one of system, developer, user, assistant, tool" }).transform((r) => (r === "developer" ? "system" : r)),
  // an assistant message that only calls tools has none
  content: nullable(Content).transform((c) => c ?? ""),
  name: z.string().optional(),
  tool_calls: nullable(z.array(ToolCall)),
  tool_call_id: nullable(z.string()),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const FunctionTool = z.object({
  type: z.literal("function"),
  function: z.object({ name: z.string(), description: z.string().optional(), parameters: z.record(z.string(), z.unknown(), { error: "parameters must be a JSON Schema object" }).optional(), strict: nullable(z.boolean()) }),
});

export const ToolChoice = z.union(
  [z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) }).transform((c) => ({ name: c.function.name }))],
  { error: 'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}' },
);

const Stop = nullable(z.union([z.string().min(1), z.array(z.string().min(1)).max(4, "at most 4 stop sequences")])).transform((s) =>
  s === undefined ? [] : typeof s === "string" ? [s] : s,
);

const JsonSchemaFormat = z.object({
  type: z.literal("json_schema"),
  json_schema: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "name must be 1-64 letters, digits, _ or -"),
    description: z.string().optional(),
    schema: z.record(z.string(), z.unknown()),
    strict: nullable(z.boolean()),
  }),
});
export const ResponseFormat = z.discriminatedUnion("type", [z.object({ type: z.literal("text") }), z.object({ type: z.literal("json_object") }), JsonSchemaFormat]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

/** Sampling and control fields shared by chat and text completions. */
const generationFields = {
  model: z.string().min(1, "model is required"),
  stream: nullable(z.boolean()),
  stream_options: nullable(z.object({ include_usage: nullable(z.boolean()) })),
  max_tokens: nullable(z.number().int().min(1)),
  temperature: nullable(z.number().min(0).max(2)),
  top_p: nullable(z.number().gt(0).max(1)),
  seed: nullable(z.number().int()),
  stop: Stop,
  n: nullable(z.literal(1, { message: "n must be 1: edged answers one choice per request, so send one request per choice" })),
  presence_penalty: nullable(z.number().min(-2).max(2)),
  frequency_penalty: nullable(z.number().min(-2).max(2)),
  user: nullable(z.string()),
  /** edged: milliseconds this request may take in all, queueing included. */
  deadline_ms: nullable(z.number().int().positive()),
  /** edged: scheduling class; interactive requests go before background and batch ones. */
  priority: nullable(z.enum(["interactive", "background", "batch"])),
  /** edged: the request's routing — latency budget, privacy, deferral. */
  edged: nullable(RoutingOptions),
};

export const ChatCompletionRequest = z
  .object({
    ...generationFields,
    messages: z.array(ChatMessage).min(1, "messages must not be empty"),
    max_completion_tokens: nullable(z.number().int().min(1)),
    response_format: nullable(ResponseFormat),
    logprobs: nullable(z.boolean()),
    top_logprobs: nullable(z.number().int().min(0).max(20)),
    /** edged: put the subject's most relevant memories into the system prompt. */
    memory: nullable(z.object({ subject: z.string().min(1), namespace: z.string().min(1).optional(), k: z.number().int().min(1).max(20).default(5) })),
    tools: nullable(z.array(FunctionTool)),
    tool_choice: nullable(ToolChoice),
    parallel_tool_calls: nullable(z.boolean()),
  });
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const CompletionRequest = z
  .object({
    ...generationFields,
    /** 0 only with `echo`: the prompt is scored and nothing is generated. */
    max_tokens: nullable(z.number().int().min(0)),
    prompt: z.union([z.string(), z.array(z.string()).length(1, "only one prompt per request is supported")]).transform((p) => (typeof p === "string" ? p : p[0]!)),
    /** With `max_tokens: 0`: the prompt back with its tokens' log-probabilities (a log-likelihood, for evaluation). */
    echo: nullable(z.boolean()),
    /** The legacy shape: how many likeliest alternatives to list per token (0-5). */
    logprobs: nullable(z.number().int().min(0).max(5)),
    suffix: nullable(z.literal("", { message: "suffix is not supported" })),
  })
  .superRefine((body, ctx) => {
    if (body.echo && body.max_tokens !== 0) ctx.addIssue({ code: "custom", path: ["echo"], message: "echo is supported with max_tokens 0: the prompt is scored, and nothing is generated" });
    else if (body.echo && body.stream) ctx.addIssue({ code: "custom", path: ["stream"], message: "a scored prompt (echo) is answered as one object, not streamed" });
    else if (!body.echo && body.max_tokens === 0) ctx.addIssue({ code: "custom", path: ["max_tokens"], message: "max_tokens must be at least 1 (0 only with echo, to score the prompt)" });
  });
export type CompletionRequest = z.infer<typeof CompletionRequest>;

export const EmbeddingRequest = z.object({
  model: z.string().min(1, "model is required"),
  input: z.union([z.string(), z.array(z.string()).min(1, "input must not be empty").max(2048, "at most 2048 inputs")]).transform((i) => (typeof i === "string" ? [i] : i)),
  encoding_format: nullable(z.enum(["float", "base64"])),
  dimensions: nullable(z.number().int().positive()),
  user: nullable(z.string()),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;
