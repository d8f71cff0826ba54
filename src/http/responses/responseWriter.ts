/**
 * The Responses API's objects for one request: the response object (in progress, completed or incomplete) and its
 * stream events, numbered in one sequence that the error event shares. The last response object written is kept
 * for the store.
 */
import type { ServerResponse } from "node:http";
import { wireLogprob, type TokenLogprob } from "../../core/logprobs.js";
import { newId } from "../../core/localAnswer.js";
import type { ToolCall } from "../../core/request.js";
import type { Answer, AnswerWriter, Surface } from "../../core/surface.js";
import { TypedSseStream } from "../eventStream.js";

/** What a response object echoes of its request. */
export interface ResponseEcho {
  id: string;
  createdAt: number;
  instructions: string | null;
  maxOutputTokens: number | null;
  previousResponseId: string | null;
  store: boolean;
  temperature: number;
  topP: number;
  topLogprobs: number;
  format: Record<string, unknown>;
  metadata: Record<string, string>;
  user: string | null;
}

const logprobsOf = (entries: TokenLogprob[] | null | undefined) => (entries ?? []).map(wireLogprob);

export class ResponsesSurface implements Surface {
  private sequence = 0;
  /** The response object of the last answer written whole or to its end. */
  final?: Record<string, unknown>;

  constructor(private readonly echo: ResponseEcho) {}

  stream(res: ServerResponse) {
    return new TypedSseStream(res, (error) => this.event({ type: "error", code: error.code ?? error.type, message: error.message, param: error.param }));
  }

  private event<T extends { type: string }>(e: T): T & { sequence_number: number } {
    return { ...e, sequence_number: this.sequence++ };
  }

  private object(model: string, status: string, output: unknown[], answer?: Answer): Record<string, unknown> {
    const e = this.echo;
    return {
      id: e.id,
      object: "response",
      created_at: e.createdAt,
      status,
      background: false,
      error: null,
      incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
      instructions: e.instructions,
      max_output_tokens: e.maxOutputTokens,
      model,
      output,
      parallel_tool_calls: true,
      previous_response_id: e.previousResponseId,
      reasoning: { effort: null, summary: null },
      store: e.store,
      temperature: e.temperature,
      text: { format: e.format },
      tool_choice: "auto",
      tools: [],
      top_logprobs: e.topLogprobs,
      top_p: e.topP,
      truncation: "disabled",
      usage: answer
        ? {
            input_tokens: answer.promptTokens,
            input_tokens_details: { cached_tokens: answer.reusedTokens },
            output_tokens: answer.completionTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: answer.promptTokens + answer.completionTokens,
          }
        : null,
      user: e.user,
      metadata: e.metadata,
    };
  }

  writer(model: string): AnswerWriter {
    const itemId = newId("msg", "_");
    const at = { item_id: itemId, output_index: 0, content_index: 0 };
    const part = (text: string, logprobs: TokenLogprob[] | null | undefined) => ({ type: "output_text", text, annotations: [], logprobs: logprobsOf(logprobs) });
    const item = (status: string, content: unknown[]) => ({ id: itemId, type: "message", status, role: "assistant", content });
    // each tool call is an output item after the message, with an id of its own
    const callItems = new Map<string, string>();
    const callItem = (c: ToolCall, status: string) => {
      if (!callItems.has(c.id)) callItems.set(c.id, newId("fc", "_"));
      return { id: callItems.get(c.id)!, type: "function_call", status, call_id: c.id, name: c.name, arguments: c.arguments };
    };
    const streamed: ToolCall[] = [];
    const finishCall = (valid?: readonly ToolCall[]) => {
      const call = streamed.at(-1);
      if (!call || (valid && !valid.some((v) => v.id === call.id))) return [];
      const outputIndex = streamed.length;
      const done = callItem(call, "completed");
      return [
        this.event({ type: "response.function_call_arguments.done", item_id: done.id, output_index: outputIndex, arguments: call.arguments }),
        this.event({ type: "response.output_item.done", output_index: outputIndex, item: done }),
      ];
    };
    const done = (a: Answer) => {
      const status = a.finishReason === "length" ? "incomplete" : "completed";
      const calls = (a.toolCalls ?? []).map((c) => callItem(c, "completed"));
      this.final = this.object(model, status, [item(status, [part(a.text, a.logprobs)]), ...calls], a);
      return this.final;
    };
    return {
      opening: () => {
        const started = this.object(model, "in_progress", []);
        return [
          this.event({ type: "response.created", response: started }),
          this.event({ type: "response.in_progress", response: started }),
          this.event({ type: "response.output_item.added", output_index: 0, item: item("in_progress", []) }),
          this.event({ type: "response.content_part.added", ...at, part: part("", []) }),
        ];
      },
      delta: (text, logprobs) => [this.event({ type: "response.output_text.delta", ...at, delta: text, logprobs: logprobsOf(logprobs) })],
      toolCall: (p) => {
        if (p.type === "arguments") {
          const call = streamed.at(-1)!;
          call.arguments += p.text;
          return [this.event({ type: "response.function_call_arguments.delta", item_id: callItem(call, "in_progress").id, output_index: streamed.length, delta: p.text })];
        }
        const before = finishCall();
        const call = { id: p.id, name: p.name, arguments: "" };
        streamed.push(call);
        return [...before, this.event({ type: "response.output_item.added", output_index: streamed.length, item: callItem(call, "in_progress") })];
      },
      closing: (a) => {
        const lastCall = finishCall(a.toolCalls ?? []);
        const response = done(a);
        const finished = (response.output as Record<string, unknown>[])[0]!;
        return [
          ...lastCall,
          this.event({ type: "response.output_text.done", ...at, text: a.text, logprobs: logprobsOf(a.logprobs) }),
          this.event({ type: "response.content_part.done", ...at, part: part(a.text, a.logprobs) }),
          this.event({ type: "response.output_item.done", output_index: 0, item: finished }),
          this.event({ type: response.status === "completed" ? "response.completed" : "response.incomplete", response }),
        ];
      },
      whole: done,
    };
  }
}
