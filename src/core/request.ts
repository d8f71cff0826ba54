/**
 * The one internal request every API surface reads its wire format into: what to answer (a chat or a raw text
 * prompt), how to sample, what shape the answer must have, and how the request is routed and scheduled. Routing,
 * scheduling, generation, guards, budgets, the offline queue, memory injection, metrics and the request log work on
 * this alone, so every surface gets every feature.
 */
import type { CloudMessage, ToolChoice, ToolDefinition } from "../cloud/types.js";
import type { Sampling } from "../engines/llama/chatModel.js";
import type { Priority } from "../scheduler/slotScheduler.js";
import type { RequestRouting } from "../http/routing.js";

export type { ToolCall, ToolChoice, ToolDefinition } from "../cloud/types.js";
/** A conversation's turn: the same shape the cloud and the offline queue take. */
export type CoreMessage = CloudMessage;

/** A conversation rendered with the model's chat template, or text the model continues as it is. */
export type CorePrompt = { messages: CoreMessage[] } | { text: string };

export type OutputFormat = { type: "json_object" } | { type: "json_schema"; schema: Record<string, unknown>; param: string };

/** How a local model evaluated an earlier turn of this conversation: its prompt, and the tokens of its answer. */
export interface EvaluatedTurn {
  model: string;
  prompt: number[];
  output: number[];
  /** The answer's text, as the conversation holds it. */
  text: string;
}

export interface CoreRequest {
  /** The requested model name: a local model or a route. */
  model: string;
  prompt: CorePrompt;
  /** The request field that holds the prompt, for errors ("messages", "prompt", "input"). */
  promptParam: string;
  maxTokens: number;
  /** The sampling fields the request set; a cloud gets these alone, the device fills the rest from `samplingDefaults`. */
  sampling: Partial<Sampling>;
  /** The surface's defaults for what neither the request nor the model's defaults set. */
  samplingDefaults: Pick<Sampling, "temperature" | "topP" | "topK">;
  stop: string[];
  format?: OutputFormat;
  tools: ToolDefinition[];
  /** "auto" when tools are given and the request does not say. */
  toolChoice?: ToolChoice;
  /** Several calls in one answer (OpenAI's default). */
  parallelToolCalls?: boolean;
  /** Token log-probabilities with this many alternatives per token (0-20). */
  logprobs?: { top: number };
  /** Put the subject's most relevant memories into the system prompt. */
  memory?: { subject: string; namespace?: string; k: number };
  routing: RequestRouting;
  deadlineMs?: number;
  priority: Priority;
  /** How long the model stays loaded after this request (Ollama's keep_alive). */
  keepAliveMs?: number;
  stream: boolean;
  /** An earlier turn's evaluation, when the conversation continues a stored one on the same model. */
  evaluated?: EvaluatedTurn;
}

export const messagesOf = (prompt: CorePrompt): CoreMessage[] => ("messages" in prompt ? prompt.messages : [{ role: "user", content: prompt.text }]);
