/** POST /api/chat and POST /api/generate: Ollama's bodies read into the core request; NDJSON streams by default, Ollama's statistics at the end. */
import { durationMs, type Duration } from "../../config/duration.js";
import { wireLogprob, type TokenLogprob } from "../../core/logprobs.js";
import type { CoreMessage, CorePrompt, CoreRequest, OutputFormat, ToolCall } from "../../core/request.js";
import { serveRequest, type CoreDeps } from "../../core/serveRequest.js";
import type { Answer, AnswerWriter, Surface } from "../../core/surface.js";
import { readOllamaBody } from "./body.js";
import { controlsOf } from "../controls.js";
import { NdjsonStream } from "../eventStream.js";
import { sendJson } from "../respond.js";
import type { RequestContext, Route } from "../routes.js";
import { ChatRequest, GenerateRequest, type Options } from "./schemas.js";

const ns = (ms: number) => Math.round(ms * 1e6);
const keepAlive = (body: { keep_alive?: Duration }) => (body.keep_alive === undefined ? undefined : durationMs(body.keep_alive));

/** Ollama's defaults for what neither the request nor the model's params layer sets. */
const OLLAMA_SAMPLING = { temperature: 0.8, topP: 0.9, topK: 40 } as const;

const samplingOf = (o: Options): CoreRequest["sampling"] => ({
  temperature: o.temperature,
  topP: o.top_p,
  topK: o.top_k,
  seed: o.seed,
  presencePenalty: o.presence_penalty,
  frequencyPenalty: o.frequency_penalty,
});

function formatOf(format: ChatRequest["format"]): OutputFormat | undefined {
  if (format === undefined || format === "") return undefined;
  return format === "json" ? { type: "json_object" } : { type: "json_schema", schema: format, param: "format" };
}

/** Ollama's calls: arguments as an object. */
const ollamaCalls = (calls: readonly ToolCall[]) => calls.map((c) => ({ function: { name: c.name, arguments: JSON.parse(c.arguments) as unknown } }));

function ollamaWriter(model: string, kind: "chat" | "generate"): AnswerWriter {
  const piece = (text: string) => (kind === "chat" ? { message: { role: "assistant", content: text } } : { response: text });
  const head = () => ({ model, created_at: new Date().toISOString() });
  const stats = (a: Answer) => ({
    done: true,
    // Ollama says "stop" for an answer that calls tools
    done_reason: a.finishReason === "tool_calls" ? "stop" : a.finishReason,
    total_duration: ns(a.timings.totalMs),
    load_duration: 0,
    prompt_eval_count: a.promptTokens,
    prompt_eval_duration: ns(a.timings.promptMs),
    eval_count: a.completionTokens,
    eval_duration: ns(a.timings.generateMs),
  });
  const logprobs = (entries: TokenLogprob[] | null | undefined) => (entries ? { logprobs: entries.map(wireLogprob) } : {});
  const withCalls = (text: string, calls: readonly ToolCall[]) => ({ message: { role: "assistant", content: text, ...(calls.length && { tool_calls: ollamaCalls(calls) }) } });
  // Ollama streams each call whole: it goes out once the next one begins, or before the last chunk
  const streamed: ToolCall[] = [];
  const flush = (valid?: readonly ToolCall[]) => {
    // at the end, only the calls that were generated whole and validated
    const done = streamed.splice(0).filter((c) => !valid || valid.some((v) => v.id === c.id));
    return done.length ? [{ ...head(), ...withCalls("", done), done: false }] : [];
  };
  return {
    opening: () => [],
    delta: (text, entries) => [{ ...head(), ...piece(text), ...logprobs(entries), done: false }],
    toolCall: (p) => {
      if (p.type === "arguments") {
        streamed.at(-1)!.arguments += p.text;
        return [];
      }
      const before = flush();
      streamed.push({ id: p.id, name: p.name, arguments: "" });
      return before;
    },
    closing: (a) => [...flush(a.toolCalls ?? []), { ...head(), ...piece(""), ...stats(a) }],
    whole: (a) => ({ ...head(), ...(a.toolCalls?.length ? withCalls(a.text, a.toolCalls) : piece(a.text)), ...logprobs(a.logprobs), ...stats(a) }),
  };
}

const ollamaSurface = (kind: "chat" | "generate"): Surface => ({
  stream: (res) => new NdjsonStream(res),
  writer: (model) => ollamaWriter(model, kind),
});

/** An empty prompt only asks for the model to be loaded, which it already is. */
function loaded(ctx: RequestContext, model: string, kind: "chat" | "generate"): void {
  const piece = kind === "chat" ? { message: { role: "assistant", content: "" } } : { response: "" };
  sendJson(ctx.res, 200, { model, created_at: new Date().toISOString(), ...piece, done: true, done_reason: "load" });
}

/**
 * Ollama's turns as core messages. Its calls carry no ids: each gets one, and a tool result answers the first
 * unanswered call of its `tool_name` (or, without one, the first unanswered call).
 */
function coreMessages(messages: ChatRequest["messages"]): CoreMessage[] {
  const unanswered: ToolCall[] = [];
  let next = 0;
  return messages.map((m): CoreMessage => {
    if (m.role === "assistant") {
      const toolCalls = m.tool_calls?.map((c) => ({ id: `call_${next++}`, name: c.function.name, arguments: JSON.stringify(c.function.arguments) }));
      unanswered.push(...(toolCalls ?? []));
      return { role: "assistant", content: m.content, toolCalls };
    }
    if (m.role === "tool") {
      const at = Math.max(0, unanswered.findIndex((c) => m.tool_name === undefined || c.name === m.tool_name));
      const [call] = unanswered.splice(at, 1);
      return { role: "tool", content: m.content, toolCallId: call?.id ?? "" };
    }
    return { role: m.role, content: m.content };
  });
}

export function ollamaGenerateRoutes(deps: CoreDeps): Route[] {
  const serve = (ctx: RequestContext, body: ChatRequest | GenerateRequest, kind: "chat" | "generate", prompt: CorePrompt) => {
    const predict = body.options.num_predict;
    return serveRequest(
      ctx,
      deps,
      {
        model: body.model,
        prompt,
        promptParam: kind === "chat" ? "messages" : "prompt",
        maxTokens: predict === undefined || predict < 0 ? Infinity : predict,
        sampling: samplingOf(body.options),
        samplingDefaults: OLLAMA_SAMPLING,
        stop: body.options.stop ?? [],
        format: formatOf(body.format),
        tools: "tools" in body ? (body.tools ?? []).map((t) => t.function) : [],
        logprobs: body.logprobs ? { top: body.top_logprobs ?? 0 } : undefined,
        ...controlsOf(ctx, deps),
        keepAliveMs: keepAlive(body),
        stream: body.stream,
      },
      ollamaSurface(kind),
      { tools: kind === "chat" },
    );
  };
  return [
    {
      method: "POST",
      path: "/api/chat",
      errorShape: "ollama",
      async handle(ctx) {
        const body = ChatRequest.parse(await readOllamaBody(ctx.req, deps.limits.bodyBytes));
        if (body.messages.length === 0) return deps.models.useChat(body.model, keepAlive(body), async (b) => loaded(ctx, b.entry.id, "chat"));
        await serve(ctx, body, "chat", { messages: coreMessages(body.messages) });
      },
    },
    {
      method: "POST",
      path: "/api/generate",
      errorShape: "ollama",
      async handle(ctx) {
        const body = GenerateRequest.parse(await readOllamaBody(ctx.req, deps.limits.bodyBytes));
        if (body.prompt === "") return deps.models.useChat(body.model, keepAlive(body), async (b) => loaded(ctx, b.entry.id, "generate"));
        const prompt: CorePrompt = body.raw
          ? { text: body.prompt }
          : { messages: [...(body.system ? [{ role: "system" as const, content: body.system }] : []), { role: "user" as const, content: body.prompt }] };
        await serve(ctx, body, "generate", prompt);
      },
    },
  ];
}
