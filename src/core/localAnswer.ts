/**
 * An answer from the device: admission to a lane, generation under the request's signal and deadline, and the
 * answer written by the surface's writer as one object or as a stream.
 */
import { randomUUID } from "node:crypto";
import type { Token } from "node-llama-cpp";
import type { GenerateOptions, Sampling } from "../engines/llama/chatModel.js";
import { SchemaViolationError } from "../engines/llama/errors.js";
import type { CallConstraint, JsonConstraint, JsonConstraints } from "../engines/llama/grammar/constraints.js";
import type { CallSyntax } from "../engines/llama/grammar/schemaGrammar.js";
import type { MemoryService } from "../memory/memoryService.js";
import type { ModelDefaults } from "../models/entry.js";
import type { ConfidenceProbe } from "../router/cascadeProbe.js";
import type { ChatBackend, ModelRegistry } from "../models/modelRegistry.js";
import type { Priority } from "../scheduler/slotScheduler.js";
import type { ServerMetrics } from "../telemetry/serverMetrics.js";
import { withDeadline } from "../http/deadline.js";
import { toApiError } from "../http/errors.js";
import type { EventStream } from "../http/eventStream.js";
import { sendJson } from "../http/respond.js";
import type { RequestContext } from "../http/routes.js";
import type { CoreRequest } from "./request.js";
import type { Answer, AnswerWriter } from "./surface.js";
import { CallStream } from "./toolCalls.js";

/** What the generating endpoints need from the daemon. */
export interface GenerationDeps {
  models: ModelRegistry;
  /** For chat requests that ask for memories in their system prompt. */
  memory?: MemoryService;
  metrics: ServerMetrics;
  constraints: () => JsonConstraints;
  limits: { bodyBytes: number; defaultMaxTokens: number; defaultDeadlineMs: number };
}

export interface GenerationParams {
  prompt: Token[];
  maxTokens: number;
  sampling: Sampling;
  stop: readonly string[];
  /** JSON output: sampled under its grammar, and a finished answer is checked before it is returned. */
  constraint?: JsonConstraint;
  /** The stream to answer on, or none for one JSON object. */
  stream?: EventStream;
  deadlineMs: number | undefined;
  priority: Priority;
  /** Log-probabilities for the client. */
  logprobs?: { top: number };
  /** Tools offered: generation runs under the grammar of their calls, which are read out of the text as it streams. */
  tools?: { constraint: CallConstraint; syntax: CallSyntax; names: string[]; lazy?: GenerateOptions["lazyGrammar"]; forced?: GenerateOptions["forced"] };
  /** Cascade mode: judges the first tokens and may abort the generation to escalate it. */
  probe?: ConfidenceProbe;
}

/** What the request set, then the model's defaults (an Ollama params layer), then the surface's. */
export function samplingOf(request: Pick<CoreRequest, "sampling" | "samplingDefaults">, defaults: ModelDefaults = {}): Sampling {
  const { sampling: s, samplingDefaults: d } = request;
  return {
    temperature: s.temperature ?? defaults.temperature ?? d.temperature,
    topP: s.topP ?? defaults.topP ?? d.topP,
    topK: s.topK ?? defaults.topK ?? d.topK,
    seed: s.seed,
    presencePenalty: s.presencePenalty,
    frequencyPenalty: s.frequencyPenalty,
  };
}

/** Lane priority classes as llama.cpp batch priorities. */
export const EVALUATION_PRIORITY = { interactive: 5, background: 3, batch: 1 } as const;

export const newId = (prefix: string, separator = "-") => `${prefix}${separator}${randomUUID().replace(/-/g, "").slice(0, 24)}`;

/** Runs one generation and answers it; resolves with the answer, or undefined when the stream failed. */
export async function answerOnDevice(ctx: RequestContext, backend: ChatBackend, metrics: ServerMetrics, params: GenerationParams, writer: AnswerWriter): Promise<Answer | undefined> {
  const { probe, stream } = params;
  const { signal, clear } = withDeadline(probe ? AbortSignal.any([ctx.signal, probe.signal]) : ctx.signal, params.deadlineMs, performance.now() - ctx.started);
  const labels = { model: backend.entry.id };
  let admitted = NaN;
  let firstToken = NaN;
  let lastToken = NaN;
  const onToken = () => {
    lastToken = performance.now();
    if (!Number.isNaN(firstToken)) return;
    firstToken = lastToken;
    metrics.ttft.observe((firstToken - ctx.started) / 1000, labels);
  };
  // the probe reads the same log-probabilities a client gets
  const logprobs = params.logprobs ?? (probe ? { top: 0 } : undefined);
  const { tools } = params;
  const calls = tools && new CallStream(tools.syntax, tools.names);
  let content = "";
  const send = (text: string, entries: Parameters<AnswerWriter["delta"]>[1]) => {
    if (!calls) return void stream?.sendAll(writer.delta(text, entries));
    for (const piece of calls.push(text)) {
      if (piece.type === "text") {
        content += piece.text;
        stream?.sendAll(writer.delta(piece.text, entries));
      } else stream?.sendAll(writer.toolCall!(piece));
    }
  };
  try {
    const remainingMs = params.deadlineMs === undefined ? undefined : params.deadlineMs - (performance.now() - ctx.started);
    const result = await backend.scheduler.run(
      async () => {
        admitted = performance.now();
        if (stream) {
          stream.open();
          stream.sendAll(writer.opening(params.prompt.length));
        }
        return backend.model.generate({
          prompt: params.prompt,
          maxTokens: params.maxTokens,
          sampling: params.sampling,
          stop: params.stop,
          grammar: params.constraint?.grammar ?? tools?.constraint.grammar,
          lazyGrammar: tools?.lazy,
          forced: tools?.forced,
          signal,
          evaluationPriority: EVALUATION_PRIORITY[params.priority],
          interactive: params.priority === "interactive",
          logprobs,
          onText: (text, entries) => {
            onToken();
            send(text, params.logprobs && entries);
          },
          onLogprob: probe && ((entry) => probe.observe(entry.logprob)),
        });
      },
      { signal, priority: params.priority, deadlineMs: remainingMs },
    );
    probe?.settle();
    // an answer cut by max_tokens is returned as it is (finish_reason "length"), as OpenAI does
    const violation = result.finishReason === "stop" ? params.constraint?.violation(result.text) : undefined;
    if (violation) throw new SchemaViolationError(violation);
    const toolCalls = calls && (calls.complete ? calls.calls : calls.calls.slice(0, -1)); // a call cut by max_tokens is left out
    for (const call of toolCalls ?? []) {
      const wrong = tools!.constraint.violation.get(call.name)?.(call.arguments);
      if (wrong) throw new SchemaViolationError(`the arguments of ${call.name}: ${wrong}`);
    }
    onToken();
    metrics.tokensIn.inc(labels, result.promptTokens);
    metrics.tokensOut.inc(labels, result.completionTokens);
    metrics.tokensReused.inc(labels, result.reusedTokens);
    metrics.prefixLookups.inc(labels);
    if (result.reusedTokens > 0) metrics.prefixHits.inc(labels);
    const { tokens, ...counts } = result;
    const answer: Answer = {
      ...counts,
      ...(toolCalls && { text: content, toolCalls, finishReason: toolCalls.length && result.finishReason === "stop" ? "tool_calls" : result.finishReason }),
      logprobs: params.logprobs && result.logprobs,
      evaluated: { model: backend.entry.id, prompt: params.prompt, output: tokens, text: result.text },
      timings: { totalMs: performance.now() - ctx.started, promptMs: firstToken - admitted, generateMs: lastToken - firstToken },
    };
    if (!stream) sendJson(ctx.res, 200, writer.whole(answer));
    else {
      stream.sendAll(writer.closing(answer));
      stream.end();
    }
    return answer;
  } catch (error) {
    if (!stream?.opened) throw error;
    stream.fail(toApiError(error)); // the status line is gone: the error becomes the stream's last frame
    return undefined;
  } finally {
    clear();
  }
}
