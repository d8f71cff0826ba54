/** POST /v1/completions (the legacy text-completion endpoint) */
import { readJsonBody } from "../body.js";
import { deadlineOf } from "../deadline.js";
import { priorityOf } from "../priority.js";
import type { Route } from "../routes.js";
import { SseStream } from "../eventStream.js";
import { newId, runGeneration, samplingFrom, type GenerationDeps, type ResponseShape } from "../generation.js";
import { CompletionRequest } from "./schemas.js";
import { closingChunks, usageOf } from "./usage.js";

/** OpenAI's default for this endpoint. */
const DEFAULT_MAX_TOKENS = 16;

function textShape(id: string, model: string, includeUsage: boolean): ResponseShape {
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: "text_completion", created, model, system_fingerprint: "edged" };
  return {
    chunk: (text) => ({ ...base, choices: [{ index: 0, text, logprobs: null, finish_reason: null }] }),
    finalChunks: (result) => closingChunks(base, { index: 0, text: "", logprobs: null, finish_reason: result.finishReason }, result, includeUsage),
    response: (result) => ({ ...base, choices: [{ index: 0, text: result.text, logprobs: null, finish_reason: result.finishReason }], usage: usageOf(result) }),
  };
}

export function completionsRoute(deps: GenerationDeps): Route {
  return {
    method: "POST",
    path: "/v1/completions",
    async handle(ctx) {
      const body = CompletionRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
      const deadlineMs = deadlineOf(ctx.req, body.deadline_ms, deps.limits.defaultDeadlineMs);
      await deps.models.useChat(body.model, undefined, async (backend) => {
        const prompt = backend.model.tokenizeText(body.prompt);
        backend.model.assertFits(prompt, "prompt");
        await runGeneration(
          ctx,
          backend,
          deps.metrics,
          {
            prompt,
            maxTokens: body.max_tokens ?? DEFAULT_MAX_TOKENS,
            sampling: samplingFrom(body, backend.entry.defaults),
            stop: body.stop,
            stream: body.stream ? new SseStream(ctx.res) : undefined,
            deadlineMs,
            priority: priorityOf(ctx.req, body.priority),
          },
          textShape(newId("cmpl"), backend.entry.id, body.stream_options?.include_usage ?? false),
        );
      });
    },
  };
}
