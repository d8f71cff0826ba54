/** POST /api/chat and POST /api/generate: NDJSON streams by default, Ollama's statistics at the end. */
import type { Token } from "node-llama-cpp";
import { durationMs, type Duration } from "../../config/duration.js";
import type { LlamaChatModel, Sampling } from "../../engines/llama/chatModel.js";
import type { ModelDefaults } from "../../models/entry.js";
import type { JsonConstraint, JsonConstraints } from "../../engines/llama/grammar/constraints.js";
import { readJsonBody } from "../body.js";
import { deadlineOf } from "../deadline.js";
import { NdjsonStream } from "../eventStream.js";
import { runGeneration, type GenerationDeps, type ResponseShape } from "../generation.js";
import { priorityOf } from "../priority.js";
import { sendJson } from "../respond.js";
import type { RequestContext, Route } from "../routes.js";
import { ChatRequest, GenerateRequest, type Options } from "./schemas.js";

const ns = (ms: number) => Math.round(ms * 1e6);
const keepAlive = (body: { keep_alive?: Duration }) => (body.keep_alive === undefined ? undefined : durationMs(body.keep_alive));

/** What the request leaves out: the model's defaults (its params layer), then Ollama's. */
function samplingOf(o: Options, d: ModelDefaults): Sampling {
  return {
    temperature: o.temperature ?? d.temperature ?? 0.8,
    topP: o.top_p ?? d.topP ?? 0.9,
    topK: o.top_k ?? d.topK ?? 40,
    seed: o.seed,
    presencePenalty: o.presence_penalty,
    frequencyPenalty: o.frequency_penalty,
  };
}

function constraintOf(format: ChatRequest["format"], constraints: JsonConstraints): Promise<JsonConstraint> | undefined {
  if (format === undefined || format === "") return undefined;
  return format === "json" ? constraints.anyObject() : constraints.forSchema(format, "format");
}

function ollamaShape(model: string, kind: "chat" | "generate"): ResponseShape {
  const piece = (text: string) => (kind === "chat" ? { message: { role: "assistant", content: text } } : { response: text });
  const head = () => ({ model, created_at: new Date().toISOString() });
  const stats: ResponseShape["response"] = (r, t) => ({
    done: true,
    done_reason: r.finishReason,
    total_duration: ns(t.totalMs),
    load_duration: 0,
    prompt_eval_count: r.promptTokens,
    prompt_eval_duration: ns(t.promptMs),
    eval_count: r.completionTokens,
    eval_duration: ns(t.generateMs),
  });
  return {
    chunk: (text) => ({ ...head(), ...piece(text), done: false }),
    finalChunks: (r, t) => [{ ...head(), ...piece(""), ...(stats(r, t) as object) }],
    response: (r, t) => ({ ...head(), ...piece(r.text), ...(stats(r, t) as object) }),
  };
}

/** An empty prompt only asks for the model to be loaded, which it already is. */
function loaded(ctx: RequestContext, model: string, kind: "chat" | "generate"): void {
  const piece = kind === "chat" ? { message: { role: "assistant", content: "" } } : { response: "" };
  sendJson(ctx.res, 200, { model, created_at: new Date().toISOString(), ...piece, done: true, done_reason: "load" });
}

export function ollamaGenerateRoutes(deps: GenerationDeps): Route[] {
  const run = async (ctx: RequestContext, body: ChatRequest | GenerateRequest, kind: "chat" | "generate", render: (m: LlamaChatModel) => Token[]) => {
    const predict = body.options.num_predict;
    const constraint = await constraintOf(body.format, deps.constraints());
    await deps.models.useChat(body.model, keepAlive(body), async (backend) => {
      const prompt = render(backend.model);
      backend.model.assertFits(prompt, kind === "chat" ? "messages" : "prompt");
      await runGeneration(
        ctx,
        backend,
        deps.metrics,
        {
          prompt,
          maxTokens: predict === undefined || predict < 0 ? Infinity : predict,
          sampling: samplingOf(body.options, backend.entry.defaults),
          stop: body.options.stop ?? [],
          constraint,
          stream: body.stream ? new NdjsonStream(ctx.res) : undefined,
          deadlineMs: deadlineOf(ctx.req, undefined, deps.limits.defaultDeadlineMs),
          priority: priorityOf(ctx.req, undefined),
        },
        ollamaShape(backend.entry.id, kind),
      );
    });
  };
  return [
    {
      method: "POST",
      path: "/api/chat",
      errorShape: "ollama",
      async handle(ctx) {
        const body = ChatRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        if (body.messages.length === 0) return deps.models.useChat(body.model, keepAlive(body), async (b) => loaded(ctx, b.entry.id, "chat"));
        await run(ctx, body, "chat", (m) => m.renderChat(body.messages));
      },
    },
    {
      method: "POST",
      path: "/api/generate",
      errorShape: "ollama",
      async handle(ctx) {
        const body = GenerateRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        if (body.prompt === "") return deps.models.useChat(body.model, keepAlive(body), async (b) => loaded(ctx, b.entry.id, "generate"));
        await run(ctx, body, "generate", (m) =>
          body.raw
            ? m.tokenizeText(body.prompt)
            : m.renderChat([...(body.system ? [{ role: "system" as const, content: body.system }] : []), { role: "user", content: body.prompt }]),
        );
      },
    },
  ];
}
