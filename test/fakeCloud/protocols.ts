/**
 * The fake cloud's two wire protocols: what OpenAI's chat completions and Anthropic's messages accept, and how they
 * answer (JSON, server-sent events, errors). The answer is derived from the request alone, so tests can predict it:
 * "You said N words: <last user message>", cut to max_tokens words; tokens are whitespace-separated words.
 */
import { z } from "zod";

export type Api = "openai" | "anthropic";

const Content = z.union([z.string(), z.array(z.object({ type: z.literal("text"), text: z.string() }))]);
const text = (content: z.infer<typeof Content>) => (typeof content === "string" ? content : content.map((b) => b.text).join(""));

const OpenAIRequest = z.object({
  model: z.string().min(1),
  messages: z.array(z.object({ role: z.enum(["system", "developer", "user", "assistant"]), content: Content })).min(1),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
});
const AnthropicRequest = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.object({ role: z.enum(["user", "assistant"]), content: Content })).min(1),
  system: Content.optional(),
  stream: z.boolean().optional(),
});

/** A request both APIs reduce to. */
export interface ChatInput {
  model: string;
  /** All message texts (system included), for the prompt's token count. */
  texts: string[];
  lastUser: string;
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  /** Alternatives per token when log-probabilities were asked for (OpenAI only). */
  topLogprobs?: number;
}

export function parseChat(api: Api, body: unknown): ChatInput | string {
  if (api === "openai") {
    const parsed = OpenAIRequest.safeParse(body);
    if (!parsed.success) return issue(parsed.error);
    const r = parsed.data;
    const texts = r.messages.map((m) => text(m.content));
    const lastUser = r.messages.findLast((m) => m.role === "user");
    const maxTokens = r.max_completion_tokens ?? r.max_tokens ?? 256;
    const topLogprobs = r.logprobs ? (r.top_logprobs ?? 0) : undefined;
    return { model: r.model, texts, lastUser: lastUser ? text(lastUser.content) : "", maxTokens, stream: !!r.stream, includeUsage: !!r.stream_options?.include_usage, topLogprobs };
  }
  const parsed = AnthropicRequest.safeParse(body);
  if (!parsed.success) return issue(parsed.error);
  const r = parsed.data;
  const texts = [...(r.system === undefined ? [] : [text(r.system)]), ...r.messages.map((m) => text(m.content))];
  const lastUser = r.messages.findLast((m) => m.role === "user");
  return { model: r.model, texts, lastUser: lastUser ? text(lastUser.content) : "", maxTokens: r.max_tokens, stream: !!r.stream, includeUsage: true };
}

const issue = (error: z.ZodError) => error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");

const words = (s: string) => s.split(/\s+/).filter(Boolean);

export interface Answer {
  id: string;
  model: string;
  /** The answer's tokens as streamed: words, each after the first with its leading space. */
  pieces: string[];
  finish: "stop" | "length";
  promptTokens: number;
  topLogprobs?: number;
}

export function answer(input: ChatInput, id: string): Answer {
  const full = words(`You said ${words(input.lastUser).length} words: ${input.lastUser}`);
  const kept = full.slice(0, input.maxTokens);
  return {
    id,
    model: input.model,
    pieces: kept.map((w, i) => (i === 0 ? w : ` ${w}`)),
    finish: kept.length < full.length ? "length" : "stop",
    promptTokens: input.texts.reduce((n, t) => n + words(t).length, 0),
    topLogprobs: input.topLogprobs,
  };
}

/** One server-sent event; `token` marks the frames that carry a piece of the answer (they pace per-token latency). */
export interface Frame {
  text: string;
  token?: boolean;
}

export interface Protocol {
  json(a: Answer): unknown;
  frames(a: Answer, includeUsage: boolean): Frame[];
  /** The error body for a status the fake answers with. */
  error(status: number, message: string): unknown;
  /** The frame of an error raised after the stream began. */
  streamError(): Frame;
}

const created = () => Math.floor(Date.now() / 1000);

/** OpenAI's logprobs of some pieces: the i-th word has log-probability -i/10, its alternatives less. */
function logprobsOf(a: Answer, pieces: string[], first: number) {
  if (a.topLogprobs === undefined) return null;
  const entry = (token: string, logprob: number) => ({ token, logprob, bytes: [...Buffer.from(token, "utf8")] });
  return {
    content: pieces.map((p, i) => ({ ...entry(p, -(first + i) / 10), top_logprobs: Array.from({ length: a.topLogprobs! }, (_, k) => entry(k === 0 ? p : `${p}${k}`, -(first + i) / 10 - k)) })),
    refusal: null,
  };
}
const sse = (data: unknown, event?: string): Frame => ({ text: `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n` });

const OPENAI_ERROR_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ["invalid_request_error", null],
  401: ["invalid_request_error", "invalid_api_key"],
  404: ["invalid_request_error", "unknown_url"],
  429: ["requests", "rate_limit_exceeded"],
};

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  404: "not_found_error",
  429: "rate_limit_error",
  529: "overloaded_error",
};

export const protocols: Record<Api, Protocol> = {
  openai: {
    json: (a) => ({
      id: a.id,
      object: "chat.completion",
      created: created(),
      model: a.model,
      choices: [{ index: 0, message: { role: "assistant", content: a.pieces.join(""), refusal: null }, logprobs: logprobsOf(a, a.pieces, 0), finish_reason: a.finish }],
      usage: { prompt_tokens: a.promptTokens, completion_tokens: a.pieces.length, total_tokens: a.promptTokens + a.pieces.length },
      system_fingerprint: null,
    }),
    frames(a, includeUsage) {
      const chunk = (delta: object, finish: string | null, usage?: object | null, logprobs: object | null = null) => ({
        id: a.id,
        object: "chat.completion.chunk",
        created: created(),
        model: a.model,
        system_fingerprint: null,
        choices: usage ? [] : [{ index: 0, delta, logprobs, finish_reason: finish }],
        ...(includeUsage && { usage: usage ?? null }),
      });
      return [
        sse(chunk({ role: "assistant", content: "", refusal: null }, null)),
        ...a.pieces.map((piece, i) => ({ ...sse(chunk({ content: piece }, null, undefined, logprobsOf(a, [piece], i))), token: true })),
        sse(chunk({}, a.finish)),
        ...(includeUsage ? [sse(chunk({}, null, { prompt_tokens: a.promptTokens, completion_tokens: a.pieces.length, total_tokens: a.promptTokens + a.pieces.length }))] : []),
        { text: "data: [DONE]\n\n" },
      ];
    },
    error(status, message) {
      const [type, code] = OPENAI_ERROR_TYPES[status] ?? ["server_error", null];
      return { error: { message, type, param: null, code } };
    },
    streamError: () => sse({ error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null } }),
  },
  anthropic: {
    json: (a) => ({
      id: a.id,
      type: "message",
      role: "assistant",
      model: a.model,
      content: [{ type: "text", text: a.pieces.join("") }],
      stop_reason: a.finish === "length" ? "max_tokens" : "end_turn",
      stop_sequence: null,
      usage: { input_tokens: a.promptTokens, output_tokens: a.pieces.length },
    }),
    frames: (a) => [
      sse({ type: "message_start", message: { id: a.id, type: "message", role: "assistant", content: [], model: a.model, stop_reason: null, stop_sequence: null, usage: { input_tokens: a.promptTokens, output_tokens: 1 } } }, "message_start"),
      sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, "content_block_start"),
      sse({ type: "ping" }, "ping"),
      ...a.pieces.map((piece) => ({ ...sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } }, "content_block_delta"), token: true })),
      sse({ type: "content_block_stop", index: 0 }, "content_block_stop"),
      sse({ type: "message_delta", delta: { stop_reason: a.finish === "length" ? "max_tokens" : "end_turn", stop_sequence: null }, usage: { output_tokens: a.pieces.length } }, "message_delta"),
      sse({ type: "message_stop" }, "message_stop"),
    ],
    error: (status, message) => ({ type: "error", error: { type: ANTHROPIC_ERROR_TYPES[status] ?? "api_error", message } }),
    streamError: () => sse({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, "error"),
  },
};
