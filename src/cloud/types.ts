/**
 * The provider-neutral side of cloud chat: the request edged sends to any provider (the OpenAI chat fields, with
 * messages, tools and tool calls in edged's own shape), what comes back, and each provider's configuration.
 * Provider wire formats live with their providers. Jobs in the offline queue hold this request, so it stays
 * readable across versions: fields are only ever added.
 */
import { z } from "zod";
import { TokenLogprob } from "../core/logprobs.js";

/** A function the model may call, as every API describes one. */
export const ToolDefinition = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  /** JSON Schema of the arguments. */
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type ToolDefinition = z.infer<typeof ToolDefinition>;

export const ToolCall = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  /** The arguments as JSON text, as the model wrote them. */
  arguments: z.string(),
});
export type ToolCall = z.infer<typeof ToolCall>;

/** Whether and which tools the model may call: none, as it decides, at least one, or this one. */
export const ToolChoice = z.union([z.enum(["none", "auto", "required"]), z.object({ name: z.string().min(1) })]);
export type ToolChoice = z.infer<typeof ToolChoice>;

export const CloudMessage = z.discriminatedUnion("role", [
  z.object({ role: z.enum(["system", "user"]), content: z.string() }),
  z.object({ role: z.literal("assistant"), content: z.string(), toolCalls: z.array(ToolCall).optional() }),
  /** A tool's result, answering the call with `toolCallId`. */
  z.object({ role: z.literal("tool"), content: z.string(), toolCallId: z.string().min(1) }),
]);
export type CloudMessage = z.infer<typeof CloudMessage>;

export const CloudChatRequest = z.object({
  /** Overrides the provider's configured model. */
  model: z.string().min(1).optional(),
  messages: z.array(CloudMessage).min(1),
  max_tokens: z.number().int().min(1),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  stop: z.array(z.string().min(1)).optional(),
  seed: z.number().int().optional(),
  /** Token log-probabilities with `top_logprobs` alternatives; providers without them answer without. */
  logprobs: z.boolean().optional(),
  top_logprobs: z.number().int().min(0).max(20).optional(),
  tools: z.array(ToolDefinition).optional(),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
});
export type CloudChatRequest = z.infer<typeof CloudChatRequest>;

export const FinishReason = z.enum(["stop", "length", "content_filter", "tool_calls"]);
export type FinishReason = z.infer<typeof FinishReason>;

export const CloudUsage = z.object({ promptTokens: z.number().int().min(0), completionTokens: z.number().int().min(0) });
export type CloudUsage = z.infer<typeof CloudUsage>;

export const CloudChatResult = z.object({
  id: z.string(),
  model: z.string(),
  /** The text answer, or the text before the tool calls. */
  text: z.string(),
  toolCalls: z.array(ToolCall).optional(),
  finishReason: FinishReason,
  usage: CloudUsage,
  logprobs: z.array(TokenLogprob).optional(),
});
export type CloudChatResult = z.infer<typeof CloudChatResult>;

export const CloudEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string(), logprobs: z.array(TokenLogprob).optional() }),
  /** A tool call begins: its position among the answer's calls, its id and name. */
  z.object({ type: z.literal("call"), index: z.number().int().min(0), id: z.string(), name: z.string() }),
  /** A fragment of a call's arguments (JSON text), in order. */
  z.object({ type: z.literal("arguments"), index: z.number().int().min(0), text: z.string() }),
  z.object({ type: z.literal("done"), finishReason: FinishReason, usage: CloudUsage.optional(), model: z.string(), id: z.string() }),
]);
export type CloudEvent = z.infer<typeof CloudEvent>;

export interface CallOptions {
  signal?: AbortSignal;
  /** Sent as `Idempotency-Key`; retries of one call reuse it, so a server that honours it answers each call once. */
  idempotencyKey?: string;
}

export interface CloudProvider {
  readonly id: string;
  readonly kind: "openai" | "anthropic";
  /** The configured model, used when a request names none. */
  readonly model: string;
  chat(req: CloudChatRequest, opts?: CallOptions): Promise<CloudChatResult>;
  /**
   * Resolves once the response's status and headers arrived, so a failure before the first byte rejects (and may be
   * retried). Iterating yields text and tool-call events and ends with one `done` event; a failure while iterating throws a
   * CloudError: "stream_cut" when the connection broke or the stream ended early (never a silent end), "timeout" when
   * it stalled past the idle timeout, "aborted" when the signal fired. Iterate it or call `return()` on its iterator.
   */
  stream(req: CloudChatRequest, opts?: CallOptions): Promise<AsyncIterable<CloudEvent>>;
  /** A cheap authenticated request (the model list): resolves when the provider answers 2xx. */
  probe(signal?: AbortSignal): Promise<void>;
}

const ms = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

export const ProviderConfig = z
  .object({
    id: z.string().min(1),
    kind: z.enum(["openai", "anthropic"]),
    /** OpenAI-compatible: up to the version, e.g. https://api.openai.com/v1; Anthropic: the host, e.g. https://api.anthropic.com. */
    baseUrl: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, "")),
    model: z.string().min(1),
    apiKey: z.string().min(1).optional(),
    /** Environment variable holding the key when `apiKey` is absent; OPENAI_API_KEY or ANTHROPIC_API_KEY by kind. */
    apiKeyEnv: z.string().min(1).optional(),
    connectTimeoutMs: ms(2000),
    /** From sending the request to the response's headers. */
    firstByteTimeoutMs: ms(10_000),
    /** Between two chunks of the response body. */
    idleTimeoutMs: ms(30_000),
    retry: z
      .object({
        maxRetries: z.coerce.number().int().min(0).max(10).default(2),
        baseDelayMs: z.coerce.number().int().min(0).default(200),
        /** Longest wait before a retry; a Retry-After beyond it is not waited for (the error surfaces). */
        maxDelayMs: z.coerce.number().int().min(0).default(5000),
      })
      .strict()
      .prefault({}),
    breaker: z
      .object({
        /** Consecutive failures that open the breaker. */
        failureThreshold: z.coerce.number().int().min(1).default(5),
        /** How long an open breaker fails calls fast before letting trial calls through. */
        openMs: ms(30_000),
        halfOpenMaxCalls: z.coerce.number().int().min(1).default(1),
      })
      .strict()
      .prefault({}),
    anthropicVersion: z.string().min(1).default("2023-06-01"),
  })
  .strict();
export type ProviderConfig = z.infer<typeof ProviderConfig>;
export type ProviderConfigInput = z.input<typeof ProviderConfig>;
