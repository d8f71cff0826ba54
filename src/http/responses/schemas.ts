/** The OpenAI Responses wire format edged accepts, as zod schemas; request types are derived from them. */
import { z } from "zod";
import { RoutingOptions } from "../../router/schemas.js";

const nullable = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

const TextPart = z.object({ type: z.enum(["input_text", "output_text"]), text: z.string() }).passthrough();
const Part = z.discriminatedUnion("type", [TextPart.extend({ type: z.literal("input_text") }), TextPart.extend({ type: z.literal("output_text") }), z.object({ type: z.literal("refusal"), refusal: z.string() })]);

const MessageItem = z.object({
  type: z.literal("message").optional(),
  id: z.string().optional(),
  role: z.enum(["user", "assistant", "system", "developer"], { error: "role must be one of user, assistant, system, developer" }),
  content: z.union([z.string(), z.array(Part)]),
  status: z.string().optional(),
});
const FunctionCallItem = z.object({ type: z.literal("function_call"), id: z.string().optional(), call_id: z.string(), name: z.string(), arguments: z.string(), status: z.string().optional() });
const FunctionCallOutputItem = z.object({ type: z.literal("function_call_output"), id: z.string().optional(), call_id: z.string(), output: z.union([z.string(), z.array(z.unknown())]) });

/** An input item: a message (its `type` may be left out), or a function call or its output. */
export const InputItem = z.union([MessageItem, FunctionCallItem, FunctionCallOutputItem]);
export type InputItem = z.infer<typeof InputItem>;

/** Tools OpenAI runs on its own servers; nothing here can run them. */
export const HOSTED_TOOLS = ["web_search", "web_search_preview", "file_search", "computer_use_preview", "computer_use", "code_interpreter", "image_generation", "mcp", "local_shell"] as const;

const Tool = z.object({ type: z.string(), name: z.string().optional(), description: z.string().nullish(), parameters: z.record(z.string(), z.unknown()).nullish() }).passthrough();

const Format = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "name must be 1-64 letters, digits, _ or -"),
    description: z.string().optional(),
    schema: z.record(z.string(), z.unknown()),
    strict: nullable(z.boolean()),
  }),
]);

/** What the include list may ask for; the rest needs hosted tools or reasoning models. */
const LOGPROBS_INCLUDE = "message.output_text.logprobs";

export const ResponseRequest = z.object({
  model: z.string().min(1, "model is required"),
  input: z.union([z.string(), z.array(InputItem)], {
    error:
      "input must be a string or a list of message, function_call and function_call_output items whose content is input_text or output_text (images, files, audio, item references and reasoning are not supported)",
  }),
  instructions: nullable(z.string()),
  max_output_tokens: nullable(z.number().int().min(1)),
  temperature: nullable(z.number().min(0).max(2)),
  top_p: nullable(z.number().gt(0).max(1)),
  top_logprobs: nullable(z.number().int().min(0).max(20)),
  include: nullable(z.array(z.literal(LOGPROBS_INCLUDE, { error: `include may only hold "${LOGPROBS_INCLUDE}" here` }))),
  text: nullable(z.object({ format: nullable(Format), verbosity: z.unknown().optional() })),
  tools: nullable(z.array(Tool)),
  tool_choice: nullable(
    z.union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function"), name: z.string() }).transform((c) => ({ name: c.name }))], {
      error: 'tool_choice must be "none", "auto", "required" or {"type": "function", "name": ...}',
    }),
  ),
  parallel_tool_calls: nullable(z.boolean()),
  stream: nullable(z.boolean()),
  store: nullable(z.boolean()),
  previous_response_id: nullable(z.string().min(1)),
  background: nullable(z.literal(false, { error: "background responses are not supported: stream the response, or queue it with x-edged-allow-defer" })),
  conversation: nullable(z.undefined({ error: "conversations are not supported: continue with previous_response_id" })),
  reasoning: nullable(z.object({ effort: z.null({ error: "reasoning is not supported by this model" }).optional() }).passthrough()),
  truncation: nullable(z.enum(["disabled", "auto"])),
  metadata: nullable(z.record(z.string(), z.string())),
  user: nullable(z.string()),
  service_tier: nullable(z.string()),
  /** edged: scheduling class and deadline, as on chat completions. */
  priority: nullable(z.enum(["interactive", "background", "batch"])),
  deadline_ms: nullable(z.number().int().positive()),
  /** edged: the request's routing — latency budget, privacy, deferral. */
  edged: nullable(RoutingOptions),
});
export type ResponseRequest = z.infer<typeof ResponseRequest>;

export const InputItemsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(["asc", "desc"]).default("desc"),
  after: z.string().optional(),
});
