/** Anthropic's Messages wire format edged accepts, as zod schemas; request types are derived from them. */
import { z } from "zod";
import { RoutingOptions } from "../../router/schemas.js";

const TextBlock = z.object({ type: z.literal("text"), text: z.string(), cache_control: z.unknown().optional(), citations: z.unknown().optional() });
const ToolUseBlock = z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.record(z.string(), z.unknown()) });
const ToolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(TextBlock)]).optional(),
  is_error: z.boolean().optional(),
});
const Block = z.discriminatedUnion("type", [TextBlock, ToolUseBlock, ToolResultBlock]);
export type Block = z.infer<typeof Block>;

export const AnthropicMessage = z.object({
  role: z.enum(["user", "assistant"], { error: "role must be user or assistant" }),
  content: z.union([z.string(), z.array(Block)], {
    error: "content must be a string or a list of text, tool_use and tool_result blocks (images and documents are not supported by this model)",
  }),
});
export type AnthropicMessage = z.infer<typeof AnthropicMessage>;

const System = z.union([z.string(), z.array(TextBlock)]).transform((s) => (typeof s === "string" ? s : s.map((b) => b.text).join("\n")));

const Tool = z.object({ name: z.string().min(1), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()).optional() });

const prompt = {
  model: z.string({ error: "Field required" }).min(1, "Field required"),
  messages: z.array(AnthropicMessage).min(1, "at least one message is required"),
  system: System.optional(),
  tools: z.array(Tool).optional(),
};

const ToolChoice = z.discriminatedUnion("type", [
  z.object({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal("tool"), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal("none") }),
]);

export const MessagesRequest = z.object({
  ...prompt,
  tool_choice: ToolChoice.optional(),
  max_tokens: z.number({ error: "Field required" }).int().min(1),
  stop_sequences: z.array(z.string().min(1)).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.object({ user_id: z.string().nullish() }).optional(),
  stream: z.boolean().optional(),
  thinking: z
    .object({ type: z.string() })
    .refine((t) => t.type === "disabled", "extended thinking is not supported by this model")
    .optional(),
  service_tier: z.string().optional(),
  /** edged: the request's routing — latency budget, privacy, deferral. */
  edged: RoutingOptions.optional(),
});
export type MessagesRequest = z.infer<typeof MessagesRequest>;

export const CountTokensRequest = z.object(prompt);
export type CountTokensRequest = z.infer<typeof CountTokensRequest>;
