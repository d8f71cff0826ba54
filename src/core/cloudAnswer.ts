/**
 * An answer from the cloud: the route's targets in order, written by the surface's writer as one object or relayed
 * as its stream events, tool calls included (their arguments relayed in fragments as they arrive). A target that
 * fails before its answer starts gives way to the next; once events went out, a cut stream ends with the surface's
 * error event, never as a silent success. A cloud's calls are held to what the device's are: only offered tools,
 * arguments that validate against their schema.
 */
import type { CloudChatRequest, CloudEvent, CloudMessage, CloudProvider } from "../cloud/types.js";
import { firstToAnswer, type ChainFailure, type ChainObserver } from "../router/cloudChain.js";
import type { ConfiguredProvider } from "../cloud/providers.js";
import { ApiError } from "../http/errors.js";
import { sendJson } from "../http/respond.js";
import type { RequestContext } from "../http/routes.js";
import type { Validate } from "../engines/llama/grammar/schemaValidator.js";
import type { TokenLogprob } from "./logprobs.js";
import type { CoreRequest, ToolCall } from "./request.js";
import type { Answer, Surface } from "./surface.js";

/** The cloud request of a core request: the messages that may leave, the sampling fields the request set, its tools. */
export function cloudRequestOf(
  request: Pick<CoreRequest, "sampling" | "stop" | "maxTokens" | "logprobs"> & Partial<Pick<CoreRequest, "tools" | "toolChoice" | "parallelToolCalls">>,
  messages: CloudMessage[],
): CloudChatRequest {
  const { sampling: s, logprobs, tools = [] } = request;
  return {
    messages,
    max_tokens: request.maxTokens,
    ...(s.temperature !== undefined && { temperature: s.temperature }),
    ...(s.topP !== undefined && { top_p: s.topP }),
    ...(request.stop.length > 0 && { stop: request.stop }),
    ...(s.seed !== undefined && { seed: s.seed }),
    ...(logprobs && { logprobs: true, top_logprobs: logprobs.top }),
    ...(tools.length > 0 && { tools, tool_choice: request.toolChoice, parallel_tool_calls: request.parallelToolCalls }),
  };
}

/** The tools a cloud's calls may name, and the check of each one's arguments. */
export interface OfferedCalls {
  names: readonly string[];
  violation: ReadonlyMap<string, Validate>;
}

const invalidCall = (target: string, reason: string) => new ApiError(502, `The cloud answer from ${target} is refused: ${reason}`, "server_error", "cloud_invalid_tool_call");

/** Refuses a call to a tool that was not offered (checked as soon as the call's name is known). */
function checkName(name: string, offered: OfferedCalls | undefined, target: string): void {
  if (!offered?.names.includes(name)) throw invalidCall(target, `it called ${name}, which was not offered`);
}

/** Refuses calls to tools not offered, or with arguments outside their schema (checked once the arguments are whole). */
function checkCalls(calls: readonly ToolCall[], offered: OfferedCalls | undefined, target: string): void {
  for (const call of calls) {
    checkName(call.name, offered, target);
    const wrong = offered!.violation.get(call.name)?.(call.arguments);
    if (wrong) throw invalidCall(target, `the arguments of ${call.name}: ${wrong}`);
  }
}

export interface CloudAnswer {
  target: string;
  failures: ChainFailure[];
  answer: Answer;
}

export interface CloudOptions {
  targets: readonly string[];
  providers: ReadonlyMap<string, ConfiguredProvider>;
  request: CloudChatRequest;
  stream: boolean;
  surface: Surface;
  idempotencyKey?: string;
  /** The tools offered, when any: calls to others, or with arguments outside their schema, are refused. */
  tools?: OfferedCalls;
  observer?: ChainObserver;
  /** Set before the answer's head goes out, once it is known which target answers. */
  beforeAnswer?(target: string, failures: ChainFailure[]): void;
}

/** Says on the response when asked-for log-probabilities cannot come: the provider's API has none. */
function noLogprobsHeader(ctx: RequestContext, o: CloudOptions, target: string, has: boolean): void {
  if (o.request.logprobs && !has) ctx.res.setHeader("x-edged-logprobs", `unavailable: ${target} returns none`);
}

export async function answerFromCloud(ctx: RequestContext, o: CloudOptions): Promise<CloudAnswer> {
  const started = performance.now();
  const call = { signal: ctx.signal, idempotencyKey: o.idempotencyKey };
  if (!o.stream) {
    const { value, target, failures } = await firstToAnswer(o.targets, o.providers, (p) => p.chat(o.request, call), o.observer, ctx.signal);
    const firstByteMs = performance.now() - started;
    checkCalls(value.toolCalls ?? [], o.tools, target);
    const answer: Answer = {
      text: value.text,
      ...(value.toolCalls && { toolCalls: value.toolCalls }),
      finishReason: value.finishReason,
      ...value.usage,
      reusedTokens: 0,
      ...(o.request.logprobs && { logprobs: value.logprobs ?? null }),
      timings: { totalMs: firstByteMs, promptMs: firstByteMs, generateMs: 0 },
    };
    o.beforeAnswer?.(target, failures);
    noLogprobsHeader(ctx, o, target, Boolean(value.logprobs));
    sendJson(ctx.res, 200, o.surface.writer(value.model).whole(answer));
    // a whole answer comes at once: what followed its arrival is all there is to time per token
    answer.timings.totalMs = performance.now() - started;
    answer.timings.generateMs = answer.timings.totalMs - firstByteMs;
    return { target, failures, answer };
  }
  const { value: events, target, failures } = await firstToAnswer(o.targets, o.providers, (p: CloudProvider) => p.stream(o.request, call), o.observer, ctx.signal);
  const firstByteMs = performance.now() - started;
  o.beforeAnswer?.(target, failures);
  const provider = o.providers.get(target)!.provider;
  noLogprobsHeader(ctx, o, target, provider.kind === "openai");
  const answer = await relay(ctx, events, o, target, o.request.model ?? provider.model, { started, firstByteMs });
  return { target, failures, answer };
}

/** Relays a cloud stream as the surface's events, under the target's model name. */
async function relay(ctx: RequestContext, events: AsyncIterable<CloudEvent>, o: CloudOptions, target: string, model: string, clock: { started: number; firstByteMs: number }): Promise<Answer> {
  const stream = o.surface.stream(ctx.res);
  const writer = o.surface.writer(model);
  stream.open();
  stream.sendAll(writer.opening(0));
  let text = "";
  const logprobs: TokenLogprob[] = [];
  const calls: ToolCall[] = [];
  try {
    for await (const event of events) {
      switch (event.type) {
        case "text":
          text += event.text;
          if (event.logprobs) logprobs.push(...event.logprobs);
          stream.sendAll(writer.delta(event.text, o.request.logprobs ? (event.logprobs ?? []) : undefined));
          continue;
        case "call":
          // the name is checked now, before it goes out; the arguments once they are whole
          checkName(event.name, o.tools, target);
          calls[event.index] = { id: event.id, name: event.name, arguments: "" };
          stream.sendAll(writer.toolCall!(event));
          continue;
        case "arguments": {
          const call = calls[event.index];
          if (!call) throw invalidCall(target, `arguments for tool call ${event.index}, which never began`);
          call.arguments += event.text;
          stream.sendAll(writer.toolCall!(event));
          continue;
        }
      }
      checkCalls(calls, o.tools, target);
      const totalMs = performance.now() - clock.started;
      const answer: Answer = {
        text,
        ...(calls.length > 0 && { toolCalls: calls }),
        finishReason: event.finishReason,
        promptTokens: event.usage?.promptTokens ?? 0,
        completionTokens: event.usage?.completionTokens ?? 0,
        reusedTokens: 0,
        ...(o.request.logprobs && { logprobs: logprobs.length ? logprobs : null }),
        timings: { totalMs, promptMs: clock.firstByteMs, generateMs: totalMs - clock.firstByteMs },
      };
      stream.sendAll(writer.closing(answer));
      stream.end();
      return answer;
    }
    throw new Error("the stream ended without its last event");
  } catch (error) {
    if (error instanceof ApiError) {
      stream.fail(error);
      throw error;
    }
    o.observer?.onCall?.(target, (error as { kind?: string }).kind ?? "stream_cut");
    const cut = new ApiError(502, `The cloud answer from ${target} broke off: ${(error as Error).message}`, "server_error", "cloud_stream_cut");
    stream.fail(cut);
    throw cut;
  }
}
