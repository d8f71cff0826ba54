/**
 * The flow every generating endpoint shares (OpenAI chat and text completions, Ollama chat and generate):
 * admission to a lane, generation under the request's signal and deadline, and the answer as one JSON object
 * or as a stream whose framing and objects the endpoint chooses.
 */
import { randomUUID } from "node:crypto";
import type { Token } from "node-llama-cpp";
import type { GenerateResult, Sampling } from "../engines/llama/chatModel.js";
import { SchemaViolationError } from "../engines/llama/errors.js";
import type { JsonConstraint, JsonConstraints } from "../engines/llama/grammar/constraints.js";
import type { MemoryService } from "../memory/memoryService.js";
import type { ModelDefaults } from "../models/entry.js";
import type { ConfidenceProbe } from "../router/cascadeProbe.js";
import type { ChatBackend, ModelRegistry } from "../models/modelRegistry.js";
import type { Priority } from "../scheduler/slotScheduler.js";
import type { ServerMetrics } from "../telemetry/serverMetrics.js";
import { withDeadline } from "./deadline.js";
import { toApiError } from "./errors.js";
import type { EventStream } from "./eventStream.js";
import { sendJson } from "./respond.js";
import type { RequestContext } from "./routes.js";

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
  /** Cascade mode: judges the first tokens and may abort the generation to escalate it. */
  probe?: ConfidenceProbe;
}

/** Wall-clock phases of one generation, for APIs that report them (Ollama's durations). */
export interface Timings {
  totalMs: number;
  /** Admission to first token: prompt evaluation (and sampling of the first token). */
  promptMs: number;
  /** First token to last. */
  generateMs: number;
}

/** How one endpoint shapes its objects. */
export interface ResponseShape {
  /** Sent as soon as a slot is granted (OpenAI chat announces the role here). */
  openingChunk?(): unknown;
  chunk(text: string): unknown;
  /** The stream's last objects: finish reason, usage or statistics. */
  finalChunks(result: GenerateResult, timings: Timings): unknown[];
  response(result: GenerateResult, timings: Timings): unknown;
}

/** OpenAI's sampling fields; what the request leaves out, the model's defaults (an Ollama params layer), then OpenAI's (temperature 1, top_p 1). */
export function samplingFrom(body: { temperature?: number; top_p?: number; seed?: number; presence_penalty?: number; frequency_penalty?: number }, defaults: ModelDefaults = {}): Sampling {
  return {
    temperature: body.temperature ?? defaults.temperature ?? 1,
    topP: body.top_p ?? defaults.topP ?? 1,
    topK: defaults.topK,
    seed: body.seed,
    presencePenalty: body.presence_penalty,
    frequencyPenalty: body.frequency_penalty,
  };
}

/** Lane priority classes as llama.cpp batch priorities. */
const EVALUATION_PRIORITY = { interactive: 5, background: 3, batch: 1 } as const;

export const newId = (prefix: string) => `${prefix}-${randomUUID().replace(/-/g, "").slice(0, 24)}`;

/** Runs one generation and answers it; resolves with what was generated, or undefined when the stream failed. */
export async function runGeneration(
  ctx: RequestContext,
  backend: ChatBackend,
  metrics: ServerMetrics,
  params: GenerationParams,
  shape: ResponseShape,
): Promise<{ result: GenerateResult; timings: Timings } | undefined> {
  const { probe } = params;
  const { signal, clear } = withDeadline(probe ? AbortSignal.any([ctx.signal, probe.signal]) : ctx.signal, params.deadlineMs, performance.now() - ctx.started);
  const labels = { model: backend.entry.id };
  const { stream } = params;
  let admitted = NaN;
  let firstToken = NaN;
  let lastToken = NaN;
  const onToken = () => {
    lastToken = performance.now();
    if (!Number.isNaN(firstToken)) return;
    firstToken = lastToken;
    metrics.ttft.observe((firstToken - ctx.started) / 1000, labels);
  };
  try {
    const remainingMs = params.deadlineMs === undefined ? undefined : params.deadlineMs - (performance.now() - ctx.started);
    const result = await backend.scheduler.run(
      async () => {
        admitted = performance.now();
        if (stream) {
          stream.open();
          const opening = shape.openingChunk?.();
          if (opening) stream.send(opening);
        }
        return backend.model.generate({
          prompt: params.prompt,
          maxTokens: params.maxTokens,
          sampling: params.sampling,
          stop: params.stop,
          grammar: params.constraint?.grammar,
          signal,
          evaluationPriority: EVALUATION_PRIORITY[params.priority],
          interactive: params.priority === "interactive",
          onText: (text) => {
            onToken();
            stream?.send(shape.chunk(text));
          },
          onProbability: probe && ((p) => probe.observe(p)),
        });
      },
      { signal, priority: params.priority, deadlineMs: remainingMs },
    );
    probe?.settle();
    // an answer cut by max_tokens is returned as it is (finish_reason "length"), as OpenAI does
    const violation = result.finishReason === "stop" ? params.constraint?.violation(result.text) : undefined;
    if (violation) throw new SchemaViolationError(violation);
    onToken();
    metrics.tokensIn.inc(labels, result.promptTokens);
    metrics.tokensOut.inc(labels, result.completionTokens);
    metrics.tokensReused.inc(labels, result.reusedTokens);
    metrics.prefixLookups.inc(labels);
    if (result.reusedTokens > 0) metrics.prefixHits.inc(labels);
    const timings: Timings = { totalMs: performance.now() - ctx.started, promptMs: firstToken - admitted, generateMs: lastToken - firstToken };
    if (!stream) sendJson(ctx.res, 200, shape.response(result, timings));
    else {
      for (const chunk of shape.finalChunks(result, timings)) stream.send(chunk);
      stream.end();
    }
    return { result, timings };
  } catch (error) {
    if (!stream?.opened) throw error;
    stream.fail(toApiError(error)); // the status line is gone: the error becomes the stream's last frame
    return undefined;
  } finally {
    clear();
  }
}
