/**
 * POST /v1/completions (the legacy text-completion endpoint): the prompt continued as it is, through the router;
 * or, with `echo` and `max_tokens: 0`, the prompt scored on the device (its tokens' log-probabilities).
 */
import type { ScoredToken, TokenLogprob } from "../../core/logprobs.js";
import { newId } from "../../core/localAnswer.js";
import { scoreOnDevice } from "../../core/promptScore.js";
import { serveRequest, type CoreDeps } from "../../core/serveRequest.js";
import type { AnswerWriter, Surface } from "../../core/surface.js";
import { readJsonBody } from "../body.js";
import { sendJson } from "../respond.js";
import { controlsOf } from "../controls.js";
import { SseStream } from "../eventStream.js";
import type { Route } from "../routes.js";
import { OPENAI_SAMPLING, openaiSampling } from "./chatCompletions.js";
import { CompletionRequest } from "./schemas.js";
import { closingChunks, usageOf } from "./usage.js";

/** OpenAI's default for this endpoint. */
const DEFAULT_MAX_TOKENS = 16;

/** The legacy logprobs object: parallel arrays, alternatives as token → logprob maps, offsets into the text. */
function legacyLogprobs(entries: readonly (TokenLogprob | ScoredToken)[] | null | undefined, offset: number) {
  if (!entries) return null;
  const text_offset: number[] = [];
  for (const e of entries) {
    text_offset.push(offset);
    offset += e.token.length;
  }
  return {
    tokens: entries.map((e) => e.token),
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) => Object.fromEntries(e.top.map((t) => [t.token, t.logprob]))),
    text_offset,
  };
}

function textWriter(id: string, model: string, includeUsage: boolean): AnswerWriter {
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: "text_completion", created, model, system_fingerprint: "edged" };
  let offset = 0; // characters streamed so far, for text_offset
  return {
    opening: () => [],
    delta(text, logprobs) {
      const chunk = { ...base, choices: [{ index: 0, text, logprobs: legacyLogprobs(logprobs, offset), finish_reason: null }] };
      offset += text.length;
      return [chunk];
    },
    closing: (answer) => closingChunks(base, { index: 0, text: "", logprobs: null, finish_reason: answer.finishReason }, answer, includeUsage),
    whole: (answer) => ({ ...base, choices: [{ index: 0, text: answer.text, logprobs: legacyLogprobs(answer.logprobs, 0), finish_reason: answer.finishReason }], usage: usageOf(answer) }),
  };
}

const textSurface = (includeUsage: boolean): Surface => ({
  stream: (res) => new SseStream(res),
  writer: (model) => textWriter(newId("cmpl"), model, includeUsage),
});

export function completionsRoute(deps: CoreDeps): Route {
  return {
    method: "POST",
    path: "/v1/completions",
    async handle(ctx) {
      const body = CompletionRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
      if (body.echo) {
        const controls = controlsOf(ctx, deps, body);
        const scored = await scoreOnDevice(ctx, deps, { model: body.model, text: body.prompt, top: body.logprobs ?? 0, priority: controls.priority, deadlineMs: controls.deadlineMs });
        const choice = { index: 0, text: body.prompt, logprobs: body.logprobs === undefined ? null : legacyLogprobs(scored.tokens, 0), finish_reason: "length" };
        const usage = { prompt_tokens: scored.promptTokens, completion_tokens: 0, total_tokens: scored.promptTokens };
        return sendJson(ctx.res, 200, { id: newId("cmpl"), object: "text_completion", created: Math.floor(Date.now() / 1000), model: scored.model, system_fingerprint: "edged", choices: [choice], usage });
      }
      await serveRequest(
        ctx,
        deps,
        {
          model: body.model,
          prompt: { text: body.prompt },
          promptParam: "prompt",
          maxTokens: body.max_tokens ?? DEFAULT_MAX_TOKENS,
          sampling: openaiSampling(body),
          samplingDefaults: OPENAI_SAMPLING,
          stop: body.stop,
          tools: [],
          logprobs: body.logprobs === undefined ? undefined : { top: body.logprobs },
          ...controlsOf(ctx, deps, body),
          stream: body.stream ?? false,
        },
        textSurface(body.stream_options?.include_usage ?? false),
      );
    },
  };
}
