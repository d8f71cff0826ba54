/**
 * The OpenAI Responses API: POST /v1/responses read into the core request (a stored conversation continued by
 * `previous_response_id`), answered as response objects and events; stored responses read, listed by input item and
 * deleted.
 */
import type { CoreMessage, CoreRequest, OutputFormat, ToolDefinition } from "../../core/request.js";
import { newId } from "../../core/localAnswer.js";
import { serveRequest, type CoreDeps } from "../../core/serveRequest.js";
import type { ResponseStore } from "../../responses/responseStore.js";
import { readJsonBody } from "../body.js";
import { controlsOf } from "../controls.js";
import { ApiError, apiErrors } from "../errors.js";
import { sendJson } from "../respond.js";
import type { RequestContext, Route } from "../routes.js";
import { OPENAI_SAMPLING } from "../openai/chatCompletions.js";
import { ResponsesSurface } from "./responseWriter.js";
import { HOSTED_TOOLS, InputItemsQuery, ResponseRequest, type InputItem } from "./schemas.js";

const notFound = (id: string, param: string | null = null) =>
  new ApiError(404, `Response with id '${id}' not found.`, "invalid_request_error", param ? "previous_response_not_found" : "response_not_found", param);

const textOf = (content: string | { type: string; text?: string; refusal?: string }[]) =>
  typeof content === "string" ? content : content.map((p) => p.text ?? p.refusal ?? "").join("");

/** Input items as core messages, and as the items the store lists (each with an id, messages in OpenAI's item shape). */
function readInput(input: ResponseRequest["input"]): { messages: CoreMessage[]; items: { id: string }[] } {
  const list: InputItem[] = typeof input === "string" ? [{ role: "user", content: input }] : input;
  const messages: CoreMessage[] = [];
  const items: ({ id: string } & Record<string, unknown>)[] = [];
  for (const item of list) {
    if (item.type === "function_call") {
      messages.push({ role: "assistant", content: "", toolCalls: [{ id: item.call_id, name: item.name, arguments: item.arguments }] });
      items.push({ ...item, id: item.id ?? newId("fc", "_") });
    } else if (item.type === "function_call_output") {
      messages.push({ role: "tool", content: typeof item.output === "string" ? item.output : JSON.stringify(item.output), toolCallId: item.call_id });
      items.push({ ...item, id: item.id ?? newId("fco", "_") });
    } else {
      const role = item.role === "developer" ? "system" : item.role;
      messages.push({ role, content: textOf(item.content) });
      const content = typeof item.content === "string" ? [{ type: item.role === "assistant" ? "output_text" : "input_text", text: item.content }] : item.content;
      items.push({ id: item.id ?? newId("msg", "_"), type: "message", role: item.role, content, status: "completed" });
    }
  }
  return { messages, items };
}

/** Function tools go to the core (refused until tool calling); hosted tools cannot run on the device at all. */
function toolsOf(tools: ResponseRequest["tools"]): ToolDefinition[] {
  const hosted = (tools ?? []).filter((t) => t.type !== "function").map((t) => t.type);
  if (hosted.length) {
    const named = hosted.map((t) => ((HOSTED_TOOLS as readonly string[]).includes(t) ? `${t} (a tool OpenAI hosts)` : t));
    throw apiErrors.invalidParam("tools", `These tools cannot run on this device: ${named.join(", ")}`);
  }
  return (tools ?? []).map((t) => ({ name: t.name ?? "", description: t.description ?? undefined, parameters: t.parameters ?? undefined }));
}

function formatOf(format: NonNullable<ResponseRequest["text"]>["format"]): OutputFormat | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  return { type: "json_schema", schema: format.schema, param: "text.format.schema" };
}

export function responsesRoutes(deps: CoreDeps & { responses: ResponseStore }): Route[] {
  const { responses: store } = deps;
  const stored = (ctx: RequestContext) => {
    const r = store.get(ctx.params.id!);
    if (!r) throw notFound(ctx.params.id!);
    return r;
  };
  return [
    {
      method: "POST",
      path: "/v1/responses",
      async handle(ctx) {
        const body = ResponseRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        const previous = body.previous_response_id === undefined ? undefined : store.get(body.previous_response_id);
        if (body.previous_response_id !== undefined && !previous) throw notFound(body.previous_response_id, "previous_response_id");
        const tools = toolsOf(body.tools);
        const input = readInput(body.input);
        const history: CoreMessage[] = [...(previous?.conversation ?? []), ...input.messages];
        const instructions: CoreMessage[] = body.instructions ? [{ role: "system", content: body.instructions }] : [];
        const logprobs = body.include?.length ? { top: body.top_logprobs ?? 0 } : undefined;
        const format = body.text?.format ?? { type: "text" as const };
        const store_ = body.store ?? true;
        const surface = new ResponsesSurface({
          id: newId("resp", "_"),
          createdAt: Math.floor(Date.now() / 1000),
          instructions: body.instructions ?? null,
          maxOutputTokens: body.max_output_tokens ?? null,
          previousResponseId: body.previous_response_id ?? null,
          store: store_,
          temperature: body.temperature ?? OPENAI_SAMPLING.temperature,
          topP: body.top_p ?? OPENAI_SAMPLING.topP,
          topLogprobs: body.top_logprobs ?? 0,
          format,
          metadata: body.metadata ?? {},
          user: body.user ?? null,
        });
        const request: CoreRequest = {
          model: body.model,
          prompt: { messages: [...instructions, ...history] },
          promptParam: "input",
          maxTokens: body.max_output_tokens ?? deps.limits.defaultMaxTokens,
          sampling: { temperature: body.temperature, topP: body.top_p },
          samplingDefaults: OPENAI_SAMPLING,
          stop: [],
          format: formatOf(format),
          tools,
          toolChoice: body.tool_choice,
          parallelToolCalls: body.parallel_tool_calls,
          logprobs,
          ...controlsOf(ctx, deps, body),
          stream: body.stream ?? false,
          evaluated: previous?.evaluated,
        };
        const answer = await serveRequest(ctx, deps, request, surface, { tools: true });
        if (!answer || !store_ || !surface.final) return;
        store.save({
          id: surface.final.id as string,
          createdAt: surface.final.created_at as number,
          previousResponseId: body.previous_response_id,
          conversation: [...history, { role: "assistant", content: answer.text, ...(answer.toolCalls?.length && { toolCalls: answer.toolCalls }) }],
          inputItems: input.items,
          response: surface.final,
          evaluated: answer.evaluated,
        });
      },
    },
    { method: "GET", path: "/v1/responses/{id}", handle: async (ctx) => sendJson(ctx.res, 200, stored(ctx).response) },
    {
      method: "DELETE",
      path: "/v1/responses/{id}",
      async handle(ctx) {
        if (!store.delete(ctx.params.id!)) throw notFound(ctx.params.id!);
        sendJson(ctx.res, 200, { id: ctx.params.id, object: "response", deleted: true });
      },
    },
    {
      method: "GET",
      path: "/v1/responses/{id}/input_items",
      async handle(ctx) {
        const query = InputItemsQuery.parse(Object.fromEntries(ctx.url.searchParams));
        const items = stored(ctx).inputItems;
        const ordered = query.order === "asc" ? items : [...items].reverse();
        const start = query.after === undefined ? 0 : ordered.findIndex((i) => i.id === query.after) + 1;
        if (query.after !== undefined && start === 0) throw apiErrors.invalidParam("after", `No input item ${query.after} in this response`);
        const data = ordered.slice(start, start + query.limit);
        sendJson(ctx.res, 200, { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + query.limit < ordered.length });
      },
    },
  ];
}
