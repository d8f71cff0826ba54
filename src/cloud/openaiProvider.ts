/**
 * Any OpenAI-compatible chat API: POST {baseUrl}/chat/completions with a Bearer key, answered as one JSON completion
 * or as server-sent `data:` chunks (text deltas, a chunk with the finish_reason, a usage chunk, then `[DONE]`).
 */
import { z } from "zod";
import { utf8Bytes, type TokenLogprob } from "../core/logprobs.js";
import { HttpProvider } from "./httpProvider.js";
import type { SseEvent } from "./sse.js";
import type { Exchange, HttpResponse } from "./transport.js";
import type { CloudChatRequest, CloudChatResult, CloudEvent, CloudUsage, FinishReason } from "./types.js";

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
const ChatCompletion = z.object({
  id: z.string(),
  model: z.string(),
  choices: z.array(z.object({ message: z.object({ content: z.string().nullish() }), finish_reason: z.string().nullish(), logprobs: Logprobs })).min(1),
  usage: Usage,
});
const ChunkOrError = z.union([
  z.object({ error: z.object({ message: z.string() }) }),
  z.object({
    id: z.string(),
    model: z.string(),
    choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }).nullish(), finish_reason: z.string().nullish(), logprobs: Logprobs })),
    usage: Usage.nullish(),
  }),
]);

const FINISH: Partial<Record<string, FinishReason>> = { stop: "stop", length: "length", content_filter: "content_filter" };
/** Text-only callers: the remaining reasons (tool_calls, function_call) still mean the model stopped by itself. */
const finishReason = (reason: string): FinishReason => FINISH[reason] ?? "stop";
const usage = (u: z.infer<typeof Usage>): CloudUsage => ({ promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens });

export class OpenAIProvider extends HttpProvider {
  readonly kind = "openai";

  protected async result(res: HttpResponse, signal?: AbortSignal): Promise<CloudChatResult> {
    const completion = await this.transport.json(res, ChatCompletion, signal);
    const choice = completion.choices[0]!;
    return {
      id: completion.id,
      model: completion.model,
      text: choice.message.content ?? "",
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
    const { model = this.model, messages, max_tokens, temperature, top_p, stop, seed, logprobs, top_logprobs } = req;
    return {
      url: `${this.options.baseUrl}/chat/completions`,
      method: "POST",
      headers: { ...this.headers(), accept: stream ? "text/event-stream" : "application/json" },
      body: {
        model,
        messages,
        max_tokens,
        temperature,
        top_p,
        ...(stop?.length && { stop }),
        seed,
        ...(logprobs && { logprobs, top_logprobs }),
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
    for await (const { data } of frames) {
      if (data === "[DONE]") break;
      const chunk = this.transport.decode(data, ChunkOrError);
      if ("error" in chunk) throw this.transport.error("stream_cut", `the provider ended the stream: ${chunk.error.message}`, { beforeFirstByte: false });
      ({ id, model } = chunk);
      if (chunk.usage) totals = usage(chunk.usage);
      for (const choice of chunk.choices) {
        if (choice.delta?.content) yield { type: "text", text: choice.delta.content, ...(choice.logprobs && { logprobs: choice.logprobs }) };
        if (choice.finish_reason) finish = finishReason(choice.finish_reason);
      }
    }
    if (finish === undefined) throw this.transport.error("stream_cut", "the stream ended before a finish_reason", { beforeFirstByte: false });
    yield { type: "done", finishReason: finish, ...(totals && { usage: totals }), model, id };
  }
}
