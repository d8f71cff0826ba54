/**
 * Any OpenAI-compatible chat API: POST {baseUrl}/chat/completions with a Bearer key, answered as one JSON completion
 * or as server-sent `data:` chunks (text and tool-call deltas, a chunk with the finish_reason, a usage chunk, then
 * `[DONE]`). Tools, tool calls and tool results go out in OpenAI's own shape.
 */
import { z } from "zod";
import { utf8Bytes, type TokenLogprob } from "../core/logprobs.js";
import { HttpProvider } from "./httpProvider.js";
import type { SseEvent } from "./sse.js";
import type { Exchange, HttpResponse } from "./transport.js";
import type { CloudChatRequest, CloudChatResult, CloudEvent, CloudMessage, CloudUsage, FinishReason, ToolChoice, ToolDefinition } from "./types.js";

const Usage = z.object({ prompt_tokens: z.number(), completion_tokens: z.number() });
const Choice = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()).nullish() });
/** `logprobs.content` as OpenAI sends it, read into edged's entries. */
const Logprobs = z
  .object({ content: z.array(Choice.extend({ top_logprobs: z.array(Choice).nullish() })).nullish() })
  .nullish()
  .transform((l) =>
    l?.content?.map((e): TokenLogprob => ({
      token: e.token,
      logprob: e.logprob,
      bytes: e.bytes ?? utf8Bytes(e.token),
      top: (e.top_logprobs ?? []).map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes ?? utf8Bytes(t.token) })),
    })),
  );
const ToolCalls = z.array(z.object({ id: z.string(), function: z.object({ name: z.string(), arguments: z.string() }) })).nullish();
/** A streamed call: its first delta carries the id and name, the later ones fragments of the arguments. */
const ToolCallDeltas = z
  .array(z.object({ index: z.number().int().min(0), id: z.string().nullish(), function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish() }))
  .nullish();
const ChatCompletion = z.object({
  id: z.string(),
  model: z.string(),
  choices: z.array(z.object({ message: z.object({ content: z.string().nullish(), tool_calls: ToolCalls }), finish_reason: z.string().nullish(), logprobs: Logprobs })).min(1),
  usage: Usage,
});
const ChunkOrError = z.union([
  z.object({ error: z.object({ message: z.string() }) }),
  z.object({
    id: z.string(),
    model: z.string(),
    choices: z.array(z.object({ delta: z.object({ content: z.string().nullish(), tool_calls: ToolCallDeltas }).nullish(), finish_reason: z.string().nullish(), logprobs: Logprobs })),
    usage: Usage.nullish(),
  }),
]);

const FINISH: Partial<Record<string, FinishReason>> = { stop: "stop", length: "length", content_filter: "content_filter", tool_calls: "tool_calls", function_call: "tool_calls" };
/** Any other reason a compatible server invents still means the model stopped by itself. */
const finishReason = (reason: string): FinishReason => FINISH[reason] ?? "stop";
const usage = (u: z.infer<typeof Usage>): CloudUsage => ({ promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens });

/** edged's turns as OpenAI's messages: an assistant's calls as `tool_calls` (content null when it said nothing), results as `tool` messages. */
export function wireMessage(m: CloudMessage): object {
  if (m.role === "tool") return { role: "tool", tool_call_id: m.toolCallId, content: m.content };
  if (m.role !== "assistant" || !m.toolCalls?.length) return { role: m.role, content: m.content };
  const tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
  return { role: "assistant", content: m.content || null, tool_calls };
}

export const wireTool = (t: ToolDefinition) => ({ type: "function", function: { name: t.name, ...(t.description !== undefined && { description: t.description }), parameters: t.parameters ?? { type: "object", properties: {} } } });
export const wireToolChoice = (c: ToolChoice) => (typeof c === "string" ? c : { type: "function", function: { name: c.name } });

export class OpenAIProvider extends HttpProvider {
  readonly kind = "openai";

  protected async result(res: HttpResponse, signal?: AbortSignal): Promise<CloudChatResult> {
    const completion = await this.transport.json(res, ChatCompletion, signal);
    const choice = completion.choices[0]!;
    const calls = choice.message.tool_calls;
    return {
      id: completion.id,
      model: completion.model,
      text: choice.message.content ?? "",
      ...(calls?.length && { toolCalls: calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })) }),
      finishReason: finishReason(choice.finish_reason ?? "stop"),
      usage: usage(completion.usage),
      ...(choice.logprobs && { logprobs: choice.logprobs }),
    };
  }

  protected probeExchange(): Exchange {
    return { url: `${this.options.baseUrl}/models`, method: "GET", headers: this.headers() };
  }

  private headers(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }

  protected exchange(req: CloudChatRequest, stream: boolean): Exchange {
    const { model = this.model, messages, max_tokens, temperature, top_p, stop, seed, logprobs, top_logprobs, tools, tool_choice, parallel_tool_calls } = req;
    return {
      url: `${this.options.baseUrl}/chat/completions`,
      method: "POST",
      headers: { ...this.headers(), accept: stream ? "text/event-stream" : "application/json" },
      body: {
        model,
        messages: messages.map(wireMessage),
        max_tokens,
        temperature,
        top_p,
        ...(stop?.length && { stop }),
        seed,
        ...(logprobs && { logprobs, top_logprobs }),
        ...(tools?.length && { tools: tools.map(wireTool), tool_choice: tool_choice && wireToolChoice(tool_choice), parallel_tool_calls }),
        ...(stream && { stream: true, stream_options: { include_usage: true } }),
      },
    };
  }

  /** Chunks to events; the done event waits for `[DONE]` (or the end), as the usage chunk follows the finish_reason. */
  protected async *translate(frames: AsyncIterable<SseEvent>): AsyncGenerator<CloudEvent> {
    let finish: FinishReason | undefined;
    let totals: CloudUsage | undefined;
    let id = "";
    let model = "";
    const calls = new Set<number>();
    for await (const { data } of frames) {
      if (data === "[DONE]") break;
      const chunk = this.transport.decode(data, ChunkOrError);
      if ("error" in chunk) throw this.transport.error("stream_cut", `the provider ended the stream: ${chunk.error.message}`, { beforeFirstByte: false });
      ({ id, model } = chunk);
      if (chunk.usage) totals = usage(chunk.usage);
      for (const choice of chunk.choices) {
        if (choice.delta?.content) yield { type: "text", text: choice.delta.content, ...(choice.logprobs && { logprobs: choice.logprobs }) };
        for (const call of choice.delta?.tool_calls ?? []) {
          if (!calls.has(call.index)) {
            if (!call.id || !call.function?.name) throw this.transport.error("protocol", `tool call ${call.index} began without its id and name`, { beforeFirstByte: false });
            calls.add(call.index);
            yield { type: "call", index: call.index, id: call.id, name: call.function.name };
          }
          if (call.function?.arguments) yield { type: "arguments", index: call.index, text: call.function.arguments };
        }
        if (choice.finish_reason) finish = finishReason(choice.finish_reason);
      }
    }
    if (finish === undefined) throw this.transport.error("stream_cut", "the stream ended before a finish_reason", { beforeFirstByte: false });
    yield { type: "done", finishReason: finish, ...(totals && { usage: totals }), model, id };
  }
}
