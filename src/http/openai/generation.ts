/**
 * The flow chat and text completions share: admission to a slot, generation with the request's signal
 * and deadline, and the answer as one JSON object or as an SSE stream.
 */
import { randomUUID } from "node:crypto";
import type { LlamaGrammar, Token } from "node-llama-cpp";
import type { GenerateResult, Sampling } from "../../engines/llama/chatModel.js";
import type { GrammarCache } from "../../engines/llama/grammars.js";
import type { ChatBackend, ServedModels } from "../../models/servedModels.js";
import type { Priority } from "../../scheduler/slotScheduler.js";
import type { ServerMetrics } from "../../telemetry/serverMetrics.js";
import { withDeadline } from "../deadline.js";
import type { RequestContext } from "../routes.js";
import { sendJson } from "../respond.js";
import { SseStream } from "../sse.js";

/** What the generating endpoints need from the daemon. */
export interface GenerationDeps {
  models: ServedModels;
  metrics: ServerMetrics;
  grammars: () => GrammarCache;
  limits: { bodyBytes: number; defaultMaxTokens: number; defaultDeadlineMs: number };
}

export interface GenerationParams {
  prompt: Token[];
  maxTokens: number;
  sampling: Sampling;
  stop: readonly string[];
  grammar?: LlamaGrammar;
  stream: boolean;
  includeUsage: boolean;
  deadlineMs: number | undefined;
  priority: Priority;
}

/** How one endpoint shapes its objects (chat.completion vs text_completion). */
export interface ResponseShape {
  /** The first stream chunk, sent as soon as a slot is granted (chat sends the role here). */
  openingChunk?(): unknown;
  chunk(text: string): unknown;
  finalChunk(finishReason: GenerateResult["finishReason"]): unknown;
  usageChunk(usage: Usage): unknown;
  response(result: GenerateResult, usage: Usage): unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** OpenAI's sampling fields, with OpenAI's defaults (temperature 1, top_p 1). */
export function samplingFrom(body: {
  temperature?: number;
  top_p?: number;
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
}): Sampling {
  return { temperature: body.temperature ?? 1, topP: body.top_p ?? 1, seed: body.seed, presencePenalty: body.presence_penalty, frequencyPenalty: body.frequency_penalty };
}

export const newId = (prefix: string) => `${prefix}-${randomUUID().replace(/-/g, "").slice(0, 24)}`;

const usageOf = (r: GenerateResult): Usage => ({ prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens });

export async function runGeneration(ctx: RequestContext, backend: ChatBackend, metrics: ServerMetrics, params: GenerationParams, shape: ResponseShape): Promise<void> {
  const { signal, clear } = withDeadline(ctx.signal, params.deadlineMs, performance.now() - ctx.started);
  const labels = { model: backend.entry.id };
  let first = true;
  const onFirstToken = () => {
    if (!first) return;
    first = false;
    metrics.ttft.observe((performance.now() - ctx.started) / 1000, labels);
  };
  try {
    const sse = params.stream ? new SseStream(ctx.res) : undefined;
    const result = await backend.scheduler.run(
      async () => {
        if (sse) {
          sse.open();
          const opening = shape.openingChunk?.();
          if (opening) sse.send(opening);
        }
        return backend.model.generate({
          prompt: params.prompt,
          maxTokens: params.maxTokens,
          sampling: params.sampling,
          stop: params.stop,
          grammar: params.grammar,
          signal,
          onText: (text) => {
            onFirstToken();
            sse?.send(shape.chunk(text));
          },
        });
      },
      { signal, priority: params.priority, deadlineMs: params.deadlineMs === undefined ? undefined : params.deadlineMs - (performance.now() - ctx.started) },
    );
    onFirstToken();
    metrics.tokensIn.inc(labels, result.promptTokens);
    metrics.tokensOut.inc(labels, result.completionTokens);
    metrics.tokensReused.inc(labels, result.reusedTokens);
    metrics.prefixLookups.inc(labels);
    if (result.reusedTokens > 0) metrics.prefixHits.inc(labels);
    const usage = usageOf(result);
    if (!sse) return sendJson(ctx.res, 200, shape.response(result, usage));
    sse.send(shape.finalChunk(result.finishReason));
    if (params.includeUsage) sse.send(shape.usageChunk(usage));
    sse.done();
  } finally {
    clear();
  }
}

