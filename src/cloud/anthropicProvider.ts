/**
 * Anthropic's Messages API: POST {baseUrl}/v1/messages with `x-api-key` and `anthropic-version`. The request is
 * translated (system messages into `system`, tool calls into `tool_use` blocks and tool results into `tool_result`
 * blocks of a user turn, consecutive same-role turns merged, tools with `input_schema`, `tool_choice`,
 * `stop_sequences`) and the answer translated back, from one JSON message or from the event sequence message_start,
 * content_block_* (text_delta, or a tool_use block and its input_json_delta fragments), message_delta, message_stop
 * (ping and unknown events are skipped, as Anthropic asks of clients).
 */
import { z } from "zod";
import { HttpProvider, type HttpProviderOptions } from "./httpProvider.js";
import type { SseEvent } from "./sse.js";
import type { Exchange, HttpResponse } from "./transport.js";
import type { CloudChatRequest, CloudChatResult, CloudEvent, CloudMessage, FinishReason, ToolChoice } from "./types.js";

const Usage = z.object({ input_tokens: z.number(), output_tokens: z.number() });
const Block = z.object({ type: z.string(), text: z.string().optional(), id: z.string().optional(), name: z.string().optional(), input: z.unknown().optional() });
const Message = z.object({
  id: z.string(),
  model: z.string(),
  content: z.array(Block),
  stop_reason: z.string().nullish(),
  usage: Usage,
});
const MessageStart = z.object({ message: z.object({ id: z.string(), model: z.string(), usage: Usage.pick({ input_tokens: true }) }) });
const BlockStart = z.object({ index: z.number().int().min(0), content_block: Block });
const BlockDelta = z.object({ index: z.number().int().min(0), delta: z.object({ type: z.string(), text: z.string().optional(), partial_json: z.string().optional() }) });
const BlockStop = z.object({ index: z.number().int().min(0) });
const MessageDelta = z.object({ delta: z.object({ stop_reason: z.string().nullish() }), usage: Usage.pick({ output_tokens: true }) });
const StreamError = z.object({ error: z.object({ type: z.string(), message: z.string() }) });

const STOP: Partial<Record<string, FinishReason>> = { max_tokens: "length", refusal: "content_filter", tool_use: "tool_calls" };
/** end_turn and stop_sequence are "stop"; so is pause_turn, which only server tools (never sent) cause. */
const finishReason = (reason: string | null | undefined): FinishReason => (reason ? (STOP[reason] ?? "stop") : "stop");

type ContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_use_id: string; content: string };
type Turn = { role: "user" | "assistant"; content: ContentBlock[] };

/** A turn's blocks: text (none when empty), then an assistant's calls; a tool result belongs to a user turn. */
function blocksOf(m: Exclude<CloudMessage, { role: "system" }>): ContentBlock[] {
  if (m.role === "tool") return [{ type: "tool_result", tool_use_id: m.toolCallId, content: m.content }];
  const text: ContentBlock[] = m.content ? [{ type: "text", text: m.content }] : [];
  if (m.role !== "assistant") return text;
  return [...text, ...(m.toolCalls ?? []).map((c): ContentBlock => ({ type: "tool_use", id: c.id, name: c.name, input: JSON.parse(c.arguments || "{}") as unknown }))];
}

/** Anthropic takes the system prompt apart from the turns, and wants user and assistant turns to alternate. */
function translateMessages(messages: CloudMessage[]): { system?: string; messages: { role: Turn["role"]; content: string | ContentBlock[] }[] } {
  const system = messages.filter((m) => m.role === "system").map((m) => m.content);
  const turns: Turn[] = [];
  for (const m of messages) {
    if (m.role === "system") continue;
    const role = m.role === "tool" ? "user" : m.role;
    const blocks = blocksOf(m);
    const last = turns.at(-1);
    if (last?.role !== role) turns.push({ role, content: blocks });
    else
      for (const block of blocks) {
        const end = last.content.at(-1);
        if (end?.type === "text" && block.type === "text") end.text += `\n\n${block.text}`;
        else last.content.push(block);
      }
  }
  // a turn of text alone goes as a string, as most clients send it
  const wire = turns.map(({ role, content }) => ({ role, content: content.length === 1 && content[0]!.type === "text" ? content[0]!.text : content }));
  return { ...(system.length > 0 && { system: system.join("\n\n") }), messages: wire };
}

/** OpenAI's choices as Anthropic's: "required" is `any`; one answer, one call unless parallel calls are allowed. */
function toolChoiceOf(choice: ToolChoice = "auto", parallel: boolean | undefined): object {
  if (choice === "none") return { type: "none" };
  const base = choice === "auto" ? { type: "auto" } : choice === "required" ? { type: "any" } : { type: "tool", name: choice.name };
  return { ...base, ...(parallel === false && { disable_parallel_tool_use: true }) };
}

export interface AnthropicProviderOptions extends HttpProviderOptions {
  anthropicVersion: string;
}

export class AnthropicProvider extends HttpProvider<AnthropicProviderOptions> {
  readonly kind = "anthropic";

  protected async result(res: HttpResponse, signal?: AbortSignal): Promise<CloudChatResult> {
    const message = await this.transport.json(res, Message, signal);
    const uses = message.content.filter((b) => b.type === "tool_use");
    return {
      id: message.id,
      model: message.model,
      text: message.content.map((block) => (block.type === "text" ? (block.text ?? "") : "")).join(""),
      ...(uses.length > 0 && { toolCalls: uses.map((b) => ({ id: b.id ?? "", name: b.name ?? "", arguments: JSON.stringify(b.input ?? {}) })) }),
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
    const { model = this.model, messages, max_tokens, temperature, top_p, stop, tools, tool_choice, parallel_tool_calls } = req;
    return {
      url: `${this.options.baseUrl}/v1/messages`,
      method: "POST",
      headers: { ...this.headers(), accept: stream ? "text/event-stream" : "application/json" },
      body: {
        model,
        max_tokens,
        ...translateMessages(messages),
        ...(stop?.length && { stop_sequences: stop }),
        ...(tools?.length && {
          tools: tools.map((t) => ({ name: t.name, ...(t.description !== undefined && { description: t.description }), input_schema: t.parameters ?? { type: "object", properties: {} } })),
          tool_choice: toolChoiceOf(tool_choice, parallel_tool_calls),
        }),
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
    // content block index -> tool call index, and whether the call's arguments have begun
    const calls = new Map<number, { index: number; begun: boolean }>();
    for await (const { event, data } of frames) {
      switch (event) {
        case "message_start": {
          const { message } = t.decode(data, MessageStart);
          ({ id, model } = message);
          promptTokens = message.usage.input_tokens;
          break;
        }
        case "content_block_start": {
          const { index, content_block: block } = t.decode(data, BlockStart);
          if (block.type !== "tool_use") break;
          if (!block.id || !block.name) throw t.error("protocol", `tool_use block ${index} began without its id and name`, { beforeFirstByte: false });
          calls.set(index, { index: calls.size, begun: false });
          yield { type: "call", index: calls.size - 1, id: block.id, name: block.name };
          break;
        }
        case "content_block_delta": {
          const { index, delta } = t.decode(data, BlockDelta);
          if (delta.type === "text_delta" && delta.text) yield { type: "text", text: delta.text };
          const call = calls.get(index);
          if (delta.type === "input_json_delta" && call && delta.partial_json) {
            call.begun = true;
            yield { type: "arguments", index: call.index, text: delta.partial_json };
          }
          break;
        }
        case "content_block_stop": {
          // a call without parameters may stream no input at all: its arguments are the empty object
          const call = calls.get(t.decode(data, BlockStop).index);
          if (call && !call.begun) yield { type: "arguments", index: call.index, text: "{}" };
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
