/**
 * Anthropic's Messages API: POST {baseUrl}/v1/messages with `x-api-key` and `anthropic-version`. The OpenAI-shape
 * request is translated (system messages into `system`, consecutive same-role turns merged, `stop_sequences`) and
 * the answer translated back, from one JSON message or from the event sequence message_start, content_block_*,
 * message_delta, message_stop (ping and unknown events are skipped, as Anthropic asks of clients).
 */
import { z } from "zod";
import { HttpProvider, type HttpProviderOptions } from "./httpProvider.js";
import type { SseEvent } from "./sse.js";
import type { Exchange, HttpResponse } from "./transport.js";
import type { CloudChatRequest, CloudChatResult, CloudEvent, CloudMessage, FinishReason } from "./types.js";

const Usage = z.object({ input_tokens: z.number(), output_tokens: z.number() });
const Message = z.object({
  id: z.string(),
  model: z.string(),
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullish(),
  usage: Usage,
});
const MessageStart = z.object({ message: z.object({ id: z.string(), model: z.string(), usage: Usage.pick({ input_tokens: true }) }) });
const BlockDelta = z.object({ delta: z.object({ type: z.string(), text: z.string().optional() }) });
const MessageDelta = z.object({ delta: z.object({ stop_reason: z.string().nullish() }), usage: Usage.pick({ output_tokens: true }) });
const StreamError = z.object({ error: z.object({ type: z.string(), message: z.string() }) });

const STOP: Partial<Record<string, FinishReason>> = { max_tokens: "length", refusal: "content_filter" };
/** end_turn and stop_sequence are "stop"; so are tool_use and pause_turn, which a text-only caller does not ask for. */
const finishReason = (reason: string | null | undefined): FinishReason => (reason ? (STOP[reason] ?? "stop") : "stop");

type Turn = { role: "user" | "assistant"; content: string };

/** Anthropic takes the system prompt apart from the turns, and wants user and assistant turns to alternate. */
function translateMessages(messages: CloudMessage[]): { system?: string; messages: Turn[] } {
  const system = messages.filter((m) => m.role === "system").map((m) => m.content);
  const turns: Turn[] = [];
  for (const { role, content } of messages) {
    if (role === "system") continue;
    const last = turns.at(-1);
    if (last?.role === role) last.content += `\n\n${content}`;
    else turns.push({ role, content });
  }
  return { ...(system.length > 0 && { system: system.join("\n\n") }), messages: turns };
}

export interface AnthropicProviderOptions extends HttpProviderOptions {
  anthropicVersion: string;
}

export class AnthropicProvider extends HttpProvider<AnthropicProviderOptions> {
  readonly kind = "anthropic";

  protected async result(res: HttpResponse, signal?: AbortSignal): Promise<CloudChatResult> {
    const message = await this.transport.json(res, Message, signal);
    return {
      id: message.id,
      model: message.model,
      text: message.content.map((block) => (block.type === "text" ? (block.text ?? "") : "")).join(""),
      finishReason: finishReason(message.stop_reason),
      usage: { promptTokens: message.usage.input_tokens, completionTokens: message.usage.output_tokens },
    };
  }

  protected probeExchange(): Exchange {
    return { url: `${this.options.baseUrl}/v1/models`, method: "GET", headers: this.headers() };
  }

  private headers(): Record<string, string> {
    const { apiKey, anthropicVersion } = this.options;
    return { "anthropic-version": anthropicVersion, ...(apiKey && { "x-api-key": apiKey }) };
  }

  protected exchange(req: CloudChatRequest, stream: boolean): Exchange {
    const { model = this.model, messages, max_tokens, temperature, top_p, stop } = req;
    return {
      url: `${this.options.baseUrl}/v1/messages`,
      method: "POST",
      headers: { ...this.headers(), accept: stream ? "text/event-stream" : "application/json" },
      body: {
        model,
        max_tokens,
        ...translateMessages(messages),
        ...(stop?.length && { stop_sequences: stop }),
        temperature,
        top_p,
        ...(stream && { stream: true }),
      },
    };
  }

  protected async *translate(frames: AsyncIterable<SseEvent>): AsyncGenerator<CloudEvent> {
    const t = this.transport;
    let id = "";
    let model = "";
    let promptTokens = 0;
    let completionTokens = 0;
    let stop: string | null | undefined;
    for await (const { event, data } of frames) {
      switch (event) {
        case "message_start": {
          const { message } = t.decode(data, MessageStart);
          ({ id, model } = message);
          promptTokens = message.usage.input_tokens;
          break;
        }
        case "content_block_delta": {
          const { delta } = t.decode(data, BlockDelta);
          if (delta.type === "text_delta" && delta.text) yield { type: "text", text: delta.text };
          break;
        }
        case "message_delta": {
          const update = t.decode(data, MessageDelta);
          stop = update.delta.stop_reason ?? stop;
          completionTokens = update.usage.output_tokens;
          break;
        }
        case "message_stop":
          yield { type: "done", finishReason: finishReason(stop), usage: { promptTokens, completionTokens }, model, id };
          return;
        case "error": {
          const { error } = t.decode(data, StreamError);
          throw t.error("stream_cut", `the provider ended the stream: ${error.type}: ${error.message}`, { beforeFirstByte: false });
        }
      }
    }
    throw t.error("stream_cut", "the stream ended before message_stop", { beforeFirstByte: false });
  }
}
