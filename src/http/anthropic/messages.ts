/**
 * POST /v1/messages and POST /v1/messages/count_tokens: Anthropic's Messages API read into the core request and
 * answered as Anthropic's message objects and stream events, whoever answers (the device, or an OpenAI-compatible
 * or Anthropic cloud).
 */
import type { CoreMessage, CoreRequest, ToolCall } from "../../core/request.js";
import { newId } from "../../core/localAnswer.js";
import { serveRequest, type CoreDeps } from "../../core/serveRequest.js";
import type { Answer, AnswerWriter, Surface } from "../../core/surface.js";
import { readJsonBody } from "../body.js";
import { apiErrors } from "../errors.js";
import { TypedSseStream } from "../eventStream.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";
import { CountTokensRequest, MessagesRequest, type AnthropicMessage } from "./schemas.js";
import { controlsOf } from "../controls.js";

/** Anthropic's defaults: temperature 1, no nucleus cut. */
const ANTHROPIC_SAMPLING = { temperature: 1, topP: 1 } as const;

function stopReason(a: Answer): string {
  if (a.finishReason === "length") return "max_tokens";
  if (a.finishReason === "tool_calls") return "tool_use";
  if (a.finishReason === "content_filter") return "refusal";
  return a.stopSequence === undefined ? "end_turn" : "stop_sequence";
}

function messageWriter(id: string, model: string): AnswerWriter {
  const usage = (a: Pick<Answer, "promptTokens" | "completionTokens">) => ({ input_tokens: a.promptTokens, output_tokens: a.completionTokens });
  const message = (a: Answer | undefined, promptTokens: number) => ({
    id,
    type: "message",
    role: "assistant",
    model,
    content: a ? [...(a.text || !a.toolCalls?.length ? [{ type: "text", text: a.text }] : []), ...(a.toolCalls ?? []).map(toolUse)] : [],
    stop_reason: a ? stopReason(a) : null,
    stop_sequence: a?.stopSequence ?? null,
    usage: usage(a ?? { promptTokens, completionTokens: 0 }),
  });
  let block = 0; // the content block being streamed: the text, then one per tool call
  return {
    opening: (promptTokens) => [
      { type: "message_start", message: message(undefined, promptTokens) },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "ping" },
    ],
    delta: (text) => [{ type: "content_block_delta", index: block, delta: { type: "text_delta", text } }],
    toolCall: (p) =>
      p.type === "arguments"
        ? [{ type: "content_block_delta", index: block, delta: { type: "input_json_delta", partial_json: p.text } }]
        : [
            { type: "content_block_stop", index: block },
            { type: "content_block_start", index: ++block, content_block: { type: "tool_use", id: p.id, name: p.name, input: {} } },
          ],
    closing: (a) => [
      { type: "content_block_stop", index: block },
      { type: "message_delta", delta: { stop_reason: stopReason(a), stop_sequence: a.stopSequence ?? null }, usage: usage(a) },
      { type: "message_stop" },
    ],
    whole: (a) => message(a, a.promptTokens),
  };
}

const toolUse = (c: ToolCall) => ({ type: "tool_use", id: c.id, name: c.name, input: JSON.parse(c.arguments) as unknown });

/** Anthropic's tool_choice: auto, any (at least one call), one named tool, or none. */
function toolChoiceOf(choice: MessagesRequest["tool_choice"]): Pick<CoreRequest, "toolChoice" | "parallelToolCalls"> {
  if (!choice) return {};
  const parallelToolCalls = "disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use ? false : undefined;
  const toolChoice = choice.type === "any" ? "required" : choice.type === "tool" ? { name: choice.name } : choice.type;
  return { toolChoice, parallelToolCalls };
}

const messagesSurface = (): Surface => ({
  stream: (res) => new TypedSseStream(res, (error) => error.anthropicBody()),
  writer: (model) => messageWriter(newId("msg", "_"), model),
});

const textOf = (content: string | { text: string }[]) => (typeof content === "string" ? content : content.map((b) => b.text).join(""));

/** Anthropic's turns as core messages: text blocks joined, tool results as tool messages, tool uses as calls. */
function coreMessages(system: string | undefined, messages: AnthropicMessage[]): CoreMessage[] {
  const out: CoreMessage[] = system ? [{ role: "system", content: system }] : [];
  for (const m of messages) {
    if (typeof m.content === "string") {
      out.push({ role: m.role, content: m.content });
      continue;
    }
    const text = m.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
    const calls = m.content.flatMap((b) => (b.type === "tool_use" ? [{ id: b.id, name: b.name, arguments: JSON.stringify(b.input) }] : []));
    for (const b of m.content) if (b.type === "tool_result") out.push({ role: "tool", content: textOf(b.content ?? ""), toolCallId: b.tool_use_id });
    if (m.role === "assistant") out.push({ role: "assistant", content: text, toolCalls: calls.length ? calls : undefined });
    else if (text) out.push({ role: "user", content: text });
  }
  return out;
}

const toolsOf = (tools: MessagesRequest["tools"]) => (tools ?? []).map((t) => ({ name: t.name, description: t.description, parameters: t.input_schema }));

export function anthropicRoutes(deps: CoreDeps): Route[] {
  return [
    {
      method: "POST",
      path: "/v1/messages",
      errorShape: "anthropic",
      async handle(ctx) {
        const body = MessagesRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        const request: CoreRequest = {
          model: body.model,
          prompt: { messages: coreMessages(body.system, body.messages) },
          promptParam: "messages",
          maxTokens: body.max_tokens,
          sampling: { temperature: body.temperature, topP: body.top_p, topK: body.top_k },
          samplingDefaults: ANTHROPIC_SAMPLING,
          stop: body.stop_sequences ?? [],
          tools: toolsOf(body.tools),
          ...toolChoiceOf(body.tool_choice),
          ...controlsOf(ctx, deps, body),
          stream: body.stream ?? false,
        };
        await serveRequest(ctx, deps, request, messagesSurface(), { tools: true });
      },
    },
    {
      method: "POST",
      path: "/v1/messages/count_tokens",
      errorShape: "anthropic",
      async handle(ctx) {
        const body = CountTokensRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        const messages = coreMessages(body.system, body.messages);
        const functions = Object.fromEntries(toolsOf(body.tools).map((t) => [t.name, { description: t.description, params: t.parameters }]));
        const route = deps.routing.router.routeFor(body.model);
        if (!route) throw apiErrors.modelNotFound(body.model);
        // counted as the route's local model reads the conversation, its chat template and the tools included
        const count = await deps.models.useChat(route.local, undefined, async (b) => b.model.renderChat(messages, functions).length);
        sendJson(ctx.res, 200, { input_tokens: count });
      },
    },
  ];
}
