/** OpenAI's chat completion objects — the whole answer and its stream chunks — for local and cloud answers alike. */
import { wireLogprob, type TokenLogprob } from "../../core/logprobs.js";
import type { ToolCall } from "../../core/request.js";
import type { Answer, AnswerWriter, Surface } from "../../core/surface.js";
import { newId } from "../../core/localAnswer.js";
import { SseStream } from "../eventStream.js";
import { closingChunks, usageOf, type TokenCounts } from "./usage.js";

const logprobsOf = (entries: TokenLogprob[] | null | undefined) => (entries ? { content: entries.map(wireLogprob), refusal: null } : null);

const toolCallsOf = (calls: ToolCall[]) => calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));

/** The chat.completion object of an answer (also what the offline queue records). */
export function chatCompletion(id: string, model: string, created: number, answer: TokenCounts & Pick<Answer, "text" | "finishReason" | "logprobs" | "toolCalls">) {
  const calls = answer.toolCalls?.length ? answer.toolCalls : undefined;
  const message = { role: "assistant", content: calls && !answer.text ? null : answer.text, refusal: null, ...(calls && { tool_calls: toolCallsOf(calls) }) };
  return {
    id,
    object: "chat.completion",
    created,
    model,
    system_fingerprint: "edged",
    choices: [{ index: 0, message, logprobs: logprobsOf(answer.logprobs), finish_reason: answer.finishReason }],
    usage: usageOf(answer),
  };
}

function chatWriter(id: string, model: string, includeUsage: boolean): AnswerWriter {
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: "chat.completion.chunk", created, model, system_fingerprint: "edged" };
  return {
    opening: () => [{ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] }],
    delta: (text, logprobs) => [{ ...base, choices: [{ index: 0, delta: { content: text }, logprobs: logprobsOf(logprobs), finish_reason: null }] }],
    // a call opens with its id, type and name, then its arguments stream in fragments as they are generated
    toolCall: (piece) => {
      const call = piece.type === "call" ? { index: piece.index, id: piece.id, type: "function", function: { name: piece.name, arguments: "" } } : { index: piece.index, function: { arguments: piece.text } };
      return [{ ...base, choices: [{ index: 0, delta: { tool_calls: [call] }, logprobs: null, finish_reason: null }] }];
    },
    closing: (answer) => closingChunks(base, { index: 0, delta: {}, logprobs: null, finish_reason: answer.finishReason }, answer, includeUsage),
    whole: (answer) => chatCompletion(id, model, created, answer),
  };
}

export const chatSurface = (includeUsage: boolean): Surface => ({
  stream: (res) => new SseStream(res),
  writer: (model) => chatWriter(newId("chatcmpl"), model, includeUsage),
});
