/** OpenAI's chat completion objects — the whole answer and its stream chunks — for local and cloud answers alike. */
import type { ResponseShape } from "../generation.js";
import { closingChunks, usageOf, type TokenCounts } from "./usage.js";

/** An answer: the device's, or a cloud model's (which may also end with "content_filter"). */
export interface ChatAnswer extends TokenCounts {
  text: string;
  finishReason: string;
}

export interface ChatShape extends ResponseShape {
  finalChunks(answer: ChatAnswer): unknown[];
  response(answer: ChatAnswer): unknown;
}

export function chatShape(id: string, model: string, includeUsage: boolean): ChatShape {
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: "chat.completion.chunk", created, model, system_fingerprint: "edged" };
  return {
    openingChunk: () => ({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] }),
    chunk: (text) => ({ ...base, choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }] }),
    finalChunks: (answer) => closingChunks(base, { index: 0, delta: {}, logprobs: null, finish_reason: answer.finishReason }, answer, includeUsage),
    response: (answer) => ({
      id,
      object: "chat.completion",
      created,
      model,
      system_fingerprint: "edged",
      choices: [{ index: 0, message: { role: "assistant", content: answer.text, refusal: null }, logprobs: null, finish_reason: answer.finishReason }],
      usage: usageOf(answer),
    }),
  };
}
