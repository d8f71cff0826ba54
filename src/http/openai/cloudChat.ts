/**
 * Answers a chat request from the cloud: the route's targets in order, as one JSON object or relayed as OpenAI
 * chunks. A target that fails before its answer starts gives way to the next; once chunks went out, a cut stream
 * ends with an error event, never as a silent success.
 */
import type { CloudChatRequest, CloudEvent, CloudMessage, CloudProvider } from "../../cloud/types.js";
import { firstToAnswer, type ChainFailure, type ChainObserver } from "../../router/cloudChain.js";
import type { ConfiguredProvider } from "../../cloud/providers.js";
import { ApiError } from "../errors.js";
import { SseStream } from "../eventStream.js";
import { sendJson } from "../respond.js";
import type { RequestContext } from "../routes.js";
import { newId } from "../generation.js";
import { chatShape, type ChatAnswer, type ChatShape } from "./chatShape.js";
import type { ChatCompletionRequest } from "./schemas.js";

/** The cloud request of a chat body: the messages that may leave, and the sampling fields the body set. */
export function cloudRequestOf(
  body: Pick<ChatCompletionRequest, "temperature" | "top_p" | "stop" | "seed">,
  messages: CloudMessage[],
  maxTokens: number,
): CloudChatRequest {
  return {
    messages,
    max_tokens: maxTokens,
    ...(body.temperature !== undefined && { temperature: body.temperature }),
    ...(body.top_p !== undefined && { top_p: body.top_p }),
    ...(body.stop.length > 0 && { stop: body.stop }),
    ...(body.seed !== undefined && { seed: body.seed }),
  };
}

export interface CloudAnswer {
  target: string;
  failures: ChainFailure[];
  answer: ChatAnswer;
  /** From the call to the first byte of the answer (the stream's head, or the whole JSON). */
  firstByteMs: number;
  totalMs: number;
}

export interface CloudChatOptions {
  targets: readonly string[];
  providers: ReadonlyMap<string, ConfiguredProvider>;
  request: CloudChatRequest;
  stream: boolean;
  includeUsage: boolean;
  idempotencyKey?: string;
  observer?: ChainObserver;
  /** Set before the answer's head goes out, once it is known which target answers. */
  beforeAnswer?(target: string, failures: ChainFailure[]): void;
}

export async function answerFromCloud(ctx: RequestContext, o: CloudChatOptions): Promise<CloudAnswer> {
  const started = performance.now();
  const call = { signal: ctx.signal, idempotencyKey: o.idempotencyKey };
  if (!o.stream) {
    const { value, target, failures } = await firstToAnswer(o.targets, o.providers, (p) => p.chat(o.request, call), o.observer, ctx.signal);
    const firstByteMs = performance.now() - started;
    const answer: ChatAnswer = { text: value.text, finishReason: value.finishReason, ...value.usage };
    o.beforeAnswer?.(target, failures);
    sendJson(ctx.res, 200, chatShape(value.id, value.model, false).response(answer));
    return { target, failures, answer, firstByteMs, totalMs: performance.now() - started };
  }
  const { value: events, target, failures } = await firstToAnswer(o.targets, o.providers, (p: CloudProvider) => p.stream(o.request, call), o.observer, ctx.signal);
  const firstByteMs = performance.now() - started;
  o.beforeAnswer?.(target, failures);
  const model = o.providers.get(target)!.provider.model;
  const answer = await relay(ctx, events, chatShape(newId("chatcmpl"), o.request.model ?? model, o.includeUsage), target, o.observer);
  return { target, failures, answer, firstByteMs, totalMs: performance.now() - started };
}

/** Relays a cloud stream as OpenAI chunks under an id of edged's and the target's model name. */
async function relay(ctx: RequestContext, events: AsyncIterable<CloudEvent>, shape: ChatShape, target: string, observer: ChainObserver | undefined): Promise<ChatAnswer> {
  const stream = new SseStream(ctx.res);
  stream.open();
  stream.send(shape.openingChunk!());
  let text = "";
  try {
    for await (const event of events) {
      if (event.type === "text") {
        text += event.text;
        stream.send(shape.chunk(event.text));
        continue;
      }
      const answer: ChatAnswer = { text, finishReason: event.finishReason, promptTokens: event.usage?.promptTokens ?? 0, completionTokens: event.usage?.completionTokens ?? 0 };
      for (const chunk of shape.finalChunks(answer)) stream.send(chunk);
      stream.end();
      return answer;
    }
    throw new Error("the stream ended without its last event");
  } catch (error) {
    observer?.onCall?.(target, (error as { kind?: string }).kind ?? "stream_cut");
    const cut = new ApiError(502, `The cloud answer from ${target} broke off: ${(error as Error).message}`, "server_error", "cloud_stream_cut");
    stream.fail(cut);
    throw cut;
  }
}
