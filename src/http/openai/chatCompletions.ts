/** POST /v1/chat/completions: OpenAI's chat body read into the core request, answered in chat completion objects. */
import type { CoreMessage, CoreRequest, OutputFormat } from "../../core/request.js";
import { serveRequest, type CoreDeps } from "../../core/serveRequest.js";
import { readJsonBody } from "../body.js";
import { apiErrors } from "../errors.js";
import { controlsOf } from "../controls.js";
import type { RequestContext, Route } from "../routes.js";
import { chatSurface } from "./chatShape.js";
import { ChatCompletionRequest, type ChatMessage, type ResponseFormat } from "./schemas.js";

export function formatOf(format: ResponseFormat | undefined, param: string): OutputFormat | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  return { type: "json_schema", schema: format.json_schema.schema, param };
}

export function coreMessage(m: ChatMessage): CoreMessage {
  if (m.role === "tool") return { role: "tool", content: m.content, toolCallId: m.tool_call_id ?? "" };
  if (m.role === "assistant") return { role: "assistant", content: m.content, toolCalls: m.tool_calls?.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })) };
  return { role: m.role, content: m.content };
}

/** The sampling fields OpenAI's chat and text completions share. */
export const openaiSampling = (body: { temperature?: number; top_p?: number; seed?: number; presence_penalty?: number; frequency_penalty?: number }): CoreRequest["sampling"] => ({
  temperature: body.temperature,
  topP: body.top_p,
  seed: body.seed,
  presencePenalty: body.presence_penalty,
  frequencyPenalty: body.frequency_penalty,
});

/** OpenAI's defaults: temperature 1, top_p 1. */
export const OPENAI_SAMPLING = { temperature: 1, topP: 1 } as const;

export function chatCompletionsRoute(deps: CoreDeps): Route {
  return {
    method: "POST",
    path: "/v1/chat/completions",
    async handle(ctx: RequestContext) {
      const body = ChatCompletionRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
      if (body.top_logprobs !== undefined && !body.logprobs) throw apiErrors.invalidParam("top_logprobs", "top_logprobs needs logprobs: true");
      const request: CoreRequest = {
        model: body.model,
        prompt: { messages: body.messages.map(coreMessage) },
        promptParam: "messages",
        maxTokens: body.max_completion_tokens ?? body.max_tokens ?? deps.limits.defaultMaxTokens,
        sampling: openaiSampling(body),
        samplingDefaults: OPENAI_SAMPLING,
        stop: body.stop,
        format: formatOf(body.response_format, "response_format.json_schema.schema"),
        tools: (body.tools ?? []).map((t) => t.function),
        toolChoice: body.tool_choice,
        parallelToolCalls: body.parallel_tool_calls,
        logprobs: body.logprobs ? { top: body.top_logprobs ?? 0 } : undefined,
        memory: body.memory,
        ...controlsOf(ctx, deps, body),
        stream: body.stream ?? false,
      };
      await serveRequest(ctx, deps, request, chatSurface(body.stream_options?.include_usage ?? false), { tools: true });
    },
  };
}
