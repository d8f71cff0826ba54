/**
 * What an API surface gives the core: how its streams are framed and how it writes an answer — as one object, or as
 * the events of a stream. The core decides who answers and drives the writer; the surface knows only its wire format.
 */
import type { ServerResponse } from "node:http";
import type { EventStream } from "../http/eventStream.js";
import type { TokenLogprob } from "./logprobs.js";
import type { EvaluatedTurn, ToolCall } from "./request.js";
import type { CallPiece } from "./toolCalls.js";

/** Wall-clock phases of one answer, for APIs that report them (Ollama's durations). */
export interface Timings {
  totalMs: number;
  /** Admission to the first token (prompt evaluation), or the cloud's time to its first byte. */
  promptMs: number;
  /** First token to last. */
  generateMs: number;
}

/** An answer, the device's or a cloud model's. */
export interface Answer {
  /** The text answer, or the text before the tool calls. */
  text: string;
  finishReason: "stop" | "length" | "content_filter" | "tool_calls";
  /** The calls the model made, each validated against its function's schema. */
  toolCalls?: ToolCall[];
  /** The stop sequence that ended it, when one did (a cloud answer may not say). */
  stopSequence?: string;
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens whose evaluated state the device reused from an earlier request. */
  reusedTokens: number;
  /** When asked for: the tokens' log-probabilities, or null when the answering cloud gives none. */
  logprobs?: TokenLogprob[] | null;
  timings: Timings;
  /** A device answer's tokens, for a later turn to reuse their evaluated state (see CoreRequest.evaluated). */
  evaluated?: EvaluatedTurn;
}

export interface AnswerWriter {
  /** The stream's first events, sent once a slot (or the cloud) answers. */
  opening(promptTokens: number): unknown[];
  delta(text: string, logprobs: TokenLogprob[] | undefined): unknown[];
  /** A tool call beginning (its id and name) or a fragment of its arguments; only surfaces that serve tools write them. */
  toolCall?(piece: Exclude<CallPiece, { type: "text" }>): unknown[];
  /** The stream's last events: finish reason, usage, statistics. */
  closing(answer: Answer): unknown[];
  /** The whole answer as one object. */
  whole(answer: Answer): unknown;
}

export interface Surface {
  /** A stream on the response, framed as this API frames events; an error becomes its last event in this API's shape. */
  stream(res: ServerResponse): EventStream;
  /** How this API writes one answer of `model` (the device's model id or the cloud's model name). */
  writer(model: string): AnswerWriter;
}
