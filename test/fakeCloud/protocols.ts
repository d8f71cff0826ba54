/**
 * The fake cloud's two wire protocols: what OpenAI's chat completions and Anthropic's messages accept, and how they
 * answer (JSON, server-sent events, errors). The answer is derived from the request alone, so tests can predict it:
 * "You said N words: <last user message>", cut to max_tokens words; tokens are whitespace-separated words.
 *
 * Tools: when tools are offered (and the choice is not "none") and the conversation does not end in tool results,
 * the answer calls the named tool, or every offered tool when parallel calls are allowed, or the first; each call's
 * arguments give each string property of its schema the last user message, each number property its word count and
 * each boolean true, streamed in fragments of 8 characters. When it ends in tool results the answer is text: "Tool
 * said: <the results>". The history is checked as the real APIs check it: every call answered by a result right
 * after it, every result answering a call.
 */
import { z } from "zod";

export type Api = "openai" | "anthropic";

const Content = z.union([z.string(), z.array(z.object({ type: z.literal("text"), text: z.string() }))]);
const text = (content: z.infer<typeof Content>) => (typeof content === "string" ? content : content.map((b) => b.text).join(""));

const Schema = z.record(z.string(), z.unknown());
const OpenAIMessage = z.discriminatedUnion("role", [
  z.object({ role: z.enum(["system", "developer", "user"]), content: Content }),
  z.object({
    role: z.literal("assistant"),
    content: Content.nullish(),
    tool_calls: z.array(z.object({ id: z.string().min(1), type: z.literal("function"), function: z.object({ name: z.string().min(1), arguments: z.string() }) })).optional(),
  }),
  z.object({ role: z.literal("tool"), tool_call_id: z.string().min(1), content: Content }),
]);
const OpenAIRequest = z.object({
  model: z.string().min(1),
  messages: z.array(OpenAIMessage).min(1),
  tools: z.array(z.object({ type: z.literal("function"), function: z.object({ name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/), description: z.string().optional(), parameters: Schema.optional() }) })).optional(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) })]).optional(),
  parallel_tool_calls: z.boolean().optional(),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
});
const AnthropicBlock = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({ type: z.literal("tool_use"), id: z.string().min(1), name: z.string().min(1), input: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal("tool_result"), tool_use_id: z.string().min(1), content: Content.optional(), is_error: z.boolean().optional() }),
]);
const AnthropicRequest = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.object({ role: z.enum(["user", "assistant"]), content: z.union([z.string(), z.array(AnthropicBlock)]) })).min(1),
  system: Content.optional(),
  stream: z.boolean().optional(),
  tools: z.array(z.object({ name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/), description: z.string().optional(), input_schema: Schema })).optional(),
  tool_choice: z
    .discriminatedUnion("type", [
      z.object({ type: z.enum(["auto", "any"]), disable_parallel_tool_use: z.boolean().optional() }),
      z.object({ type: z.literal("tool"), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
      z.object({ type: z.literal("none") }),
    ])
    .optional(),
});
type AnthropicBlock = z.infer<typeof AnthropicBlock>;

export interface OfferedTool {
  name: string;
  schema: Record<string, unknown>;
}

/** What a turn of either API means for the fake's answer. */
interface Turn {
  role: "system" | "user" | "assistant" | "tool";
  text: string;
  callIds: string[];
  /** The call a tool result answers. */
  answers?: string;
}

/** Every call answered by results right after it, every result answering a call of the turn before; the API's message otherwise. */
function historyError(turns: Turn[]): string | undefined {
  let open: string[] = [];
  for (const [i, t] of turns.entries()) {
    if (t.role === "tool") {
      if (!open.includes(t.answers!)) return `messages.${i}: a tool result for ${t.answers}, which no call just before it made`;
      open = open.filter((id) => id !== t.answers);
      continue;
    }
    if (open.length) return `messages.${i}: the tool calls ${open.join(", ")} must be answered by tool results right after them`;
    open = t.callIds;
  }
  return undefined;
}

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
  /** The tools the answer calls (none when it answers in text). */
  calling: OfferedTool[];
  /** The results the conversation ends with, when it ends in tool results. */
  toolResults?: string;
}

/** The tools an answer calls: none when the choice is "none" or the conversation ends in results; the named one; all, or the first. */
function calling(tools: OfferedTool[], choice: "none" | "auto" | "required" | { name: string }, parallel: boolean, endsInResults: boolean): OfferedTool[] {
  if (tools.length === 0 || choice === "none" || endsInResults) return [];
  if (typeof choice === "object") return tools.filter((t) => t.name === choice.name);
  return parallel ? tools : tools.slice(0, 1);
}

function toolResults(turns: Turn[]): string | undefined {
  const results: string[] = [];
  for (let i = turns.length - 1; i >= 0 && turns[i]!.role === "tool"; i--) results.unshift(turns[i]!.text);
  return results.length ? results.join(" ") : undefined;
}

export function parseChat(api: Api, body: unknown): ChatInput | string {
  if (api === "openai") {
    const parsed = OpenAIRequest.safeParse(body);
    if (!parsed.success) return issue(parsed.error);
    const r = parsed.data;
    const turns: Turn[] = r.messages.map((m) => ({
      role: m.role === "developer" ? "system" : m.role,
      text: text(m.content ?? ""),
      callIds: m.role === "assistant" ? (m.tool_calls ?? []).map((c) => c.id) : [],
      ...(m.role === "tool" && { answers: m.tool_call_id }),
    }));
    const wrong = historyError(turns);
    if (wrong) return wrong;
    const maxTokens = r.max_completion_tokens ?? r.max_tokens ?? 256;
    const topLogprobs = r.logprobs ? (r.top_logprobs ?? 0) : undefined;
    const tools = (r.tools ?? []).map((t) => ({ name: t.function.name, schema: t.function.parameters ?? {} }));
    const choice = typeof r.tool_choice === "object" ? { name: r.tool_choice.function.name } : (r.tool_choice ?? "auto");
    if (typeof choice === "object" && !tools.some((t) => t.name === choice.name)) return `tool_choice: no tool named ${choice.name}`;
    const results = toolResults(turns);
    return {
      model: r.model,
      texts: turns.map((t) => t.text),
      lastUser: turns.findLast((t) => t.role === "user")?.text ?? "",
      maxTokens,
      stream: !!r.stream,
      includeUsage: !!r.stream_options?.include_usage,
      topLogprobs,
      calling: calling(tools, choice, r.parallel_tool_calls ?? true, results !== undefined),
      ...(results !== undefined && { toolResults: results }),
    };
  }
  const parsed = AnthropicRequest.safeParse(body);
  if (!parsed.success) return issue(parsed.error);
  const r = parsed.data;
  // a user turn's tool results come first in it; each is a turn of its own here, as OpenAI has them
  const turns: Turn[] = r.messages.flatMap((m): Turn[] => {
    const blocks: AnthropicBlock[] = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    const results = blocks.flatMap((b): Turn[] => (b.type === "tool_result" ? [{ role: "tool", text: text(b.content ?? ""), callIds: [], answers: b.tool_use_id }] : []));
    const said = blocks.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
    const callIds = blocks.flatMap((b) => (b.type === "tool_use" ? [b.id] : []));
    return [...results, ...(said || callIds.length || results.length === 0 ? [{ role: m.role, text: said, callIds }] : [])];
  });
  const wrong = historyError(turns);
  if (wrong) return wrong;
  const tools = (r.tools ?? []).map((t) => ({ name: t.name, schema: t.input_schema }));
  const tc = r.tool_choice ?? { type: "auto" as const };
  const choice = tc.type === "none" ? "none" : tc.type === "any" ? "required" : tc.type === "tool" ? { name: tc.name } : "auto";
  if (typeof choice === "object" && !tools.some((t) => t.name === choice.name)) return `tool_choice.name: no tool named ${choice.name}`;
  const results = toolResults(turns);
  return {
    model: r.model,
    texts: [...(r.system === undefined ? [] : [text(r.system)]), ...turns.map((t) => t.text)],
    lastUser: turns.findLast((t) => t.role === "user")?.text ?? "",
    maxTokens: r.max_tokens,
    stream: !!r.stream,
    includeUsage: true,
    calling: calling(tools, choice, !("disable_parallel_tool_use" in tc && tc.disable_parallel_tool_use), results !== undefined),
    ...(results !== undefined && { toolResults: results }),
  };
}

const issue = (error: z.ZodError) => error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");

const words = (s: string) => s.split(/\s+/).filter(Boolean);

export interface FakeCall {
  id: string;
  name: string;
  arguments: string;
  /** The arguments as streamed. */
  fragments: string[];
}

export interface Answer {
  id: string;
  model: string;
  /** The answer's tokens as streamed: words, each after the first with its leading space. */
  pieces: string[];
  calls: FakeCall[];
  finish: "stop" | "length" | "tool_calls";
  promptTokens: number;
  topLogprobs?: number;
}

/** A call's arguments from its schema's properties and the last user message. */
function argumentsOf(tool: OfferedTool, lastUser: string): string {
  const properties = (tool.schema.properties ?? {}) as Record<string, { type?: string }>;
  const value = (type: string | undefined) => (type === "string" ? lastUser : type === "number" || type === "integer" ? words(lastUser).length : type === "boolean" ? true : undefined);
  return JSON.stringify(Object.fromEntries(Object.entries(properties).flatMap(([k, p]) => (value(p.type) === undefined ? [] : [[k, value(p.type)]]))));
}

const fragmentsOf = (s: string) => Array.from({ length: Math.ceil(s.length / 8) }, (_, i) => s.slice(i * 8, i * 8 + 8));

export function answer(input: ChatInput, id: string, api: Api): Answer {
  const promptTokens = input.texts.reduce((n, t) => n + words(t).length, 0);
  if (input.calling.length) {
    const calls = input.calling.map((tool, i) => {
      const args = argumentsOf(tool, input.lastUser);
      return { id: `${api === "openai" ? "call_" : "toolu_"}${id.replace(/\W/g, "")}_${i}`, name: tool.name, arguments: args, fragments: fragmentsOf(args) };
    });
    return { id, model: input.model, pieces: [], calls, finish: "tool_calls", promptTokens, topLogprobs: input.topLogprobs };
  }
  const full = words(input.toolResults === undefined ? `You said ${words(input.lastUser).length} words: ${input.lastUser}` : `Tool said: ${input.toolResults}`);
  const kept = full.slice(0, input.maxTokens);
  return {
    id,
    model: input.model,
    pieces: kept.map((w, i) => (i === 0 ? w : ` ${w}`)),
    calls: [],
    finish: kept.length < full.length ? "length" : "stop",
    promptTokens,
    topLogprobs: input.topLogprobs,
  };
}

/** Completion tokens: words, or fragments of calls. */
const outputTokens = (a: Answer) => a.pieces.length + a.calls.reduce((n, c) => n + c.fragments.length, 0);

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

const anthropicStop = (a: Answer) => (a.finish === "length" ? "max_tokens" : a.finish === "tool_calls" ? "tool_use" : "end_turn");

export const protocols: Record<Api, Protocol> = {
  openai: {
    json: (a) => ({
      id: a.id,
      object: "chat.completion",
      created: created(),
      model: a.model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: a.calls.length ? null : a.pieces.join(""),
            refusal: null,
            ...(a.calls.length && { tool_calls: a.calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })) }),
          },
          logprobs: logprobsOf(a, a.pieces, 0),
          finish_reason: a.finish,
        },
      ],
      usage: { prompt_tokens: a.promptTokens, completion_tokens: outputTokens(a), total_tokens: a.promptTokens + outputTokens(a) },
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
      const calls = a.calls.flatMap((c, index) => [
        sse(chunk({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] }, null)),
        ...c.fragments.map((f) => ({ ...sse(chunk({ tool_calls: [{ index, function: { arguments: f } }] }, null)), token: true })),
      ]);
      return [
        sse(chunk({ role: "assistant", content: a.calls.length ? null : "", refusal: null }, null)),
        ...a.pieces.map((piece, i) => ({ ...sse(chunk({ content: piece }, null, undefined, logprobsOf(a, [piece], i))), token: true })),
        ...calls,
        sse(chunk({}, a.finish)),
        ...(includeUsage ? [sse(chunk({}, null, { prompt_tokens: a.promptTokens, completion_tokens: outputTokens(a), total_tokens: a.promptTokens + outputTokens(a) }))] : []),
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
      content: a.calls.length ? a.calls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: JSON.parse(c.arguments) as unknown })) : [{ type: "text", text: a.pieces.join("") }],
      stop_reason: anthropicStop(a),
      stop_sequence: null,
      usage: { input_tokens: a.promptTokens, output_tokens: outputTokens(a) },
    }),
    frames: (a) => [
      sse({ type: "message_start", message: { id: a.id, type: "message", role: "assistant", content: [], model: a.model, stop_reason: null, stop_sequence: null, usage: { input_tokens: a.promptTokens, output_tokens: 1 } } }, "message_start"),
      ...(a.calls.length
        ? a.calls.flatMap((c, index) => [
            sse({ type: "content_block_start", index, content_block: { type: "tool_use", id: c.id, name: c.name, input: {} } }, "content_block_start"),
            ...c.fragments.map((f) => ({ ...sse({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: f } }, "content_block_delta"), token: true })),
            sse({ type: "content_block_stop", index }, "content_block_stop"),
          ])
        : [
            sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, "content_block_start"),
            sse({ type: "ping" }, "ping"),
            ...a.pieces.map((piece) => ({ ...sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } }, "content_block_delta"), token: true })),
            sse({ type: "content_block_stop", index: 0 }, "content_block_stop"),
          ]),
      sse({ type: "message_delta", delta: { stop_reason: anthropicStop(a), stop_sequence: null }, usage: { output_tokens: outputTokens(a) } }, "message_delta"),
      sse({ type: "message_stop" }, "message_stop"),
    ],
    error: (status, message) => ({ type: "error", error: { type: ANTHROPIC_ERROR_TYPES[status] ?? "api_error", message } }),
    streamError: () => sse({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, "error"),
  },
};
