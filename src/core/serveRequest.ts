/**
 * The request core's entry: a surface hands in its request read into the internal shape and the writer of its wire
 * format; this resolves the route, adds memories, renders the prompt for the route's local model and hands it to the
 * router (routedRequest.ts carries out the decision).
 */
import type { JsonConstraint, JsonConstraints } from "../engines/llama/grammar/constraints.js";
import { localKeys, type RoutingInput } from "../router/router.js";
import { ApiError, apiErrors } from "../http/errors.js";
import { apiKeyOf } from "../http/guard.js";
import type { ToolPermissions } from "./toolPermissions.js";
import { callerIdOf } from "../http/routing.js";
import type { RequestContext } from "../http/routes.js";
import type { GenerationDeps } from "./localAnswer.js";
import type { LlamaChatModel } from "../engines/llama/chatModel.js";
import type { CoreMessage, CorePrompt, CoreRequest, OutputFormat, ToolDefinition } from "./request.js";
import { messagesOf } from "./request.js";
import { RoutedRequest } from "./routedRequest.js";
import type { RoutingDeps } from "./routingDeps.js";
import type { Answer, Surface } from "./surface.js";

export type CoreDeps = GenerationDeps & { routing: RoutingDeps; toolPermissions?: ToolPermissions };

/** What of a request its tools are checked against. */
type ToolFields = Pick<CoreRequest, "tools" | "toolChoice" | "prompt" | "promptParam">;

/** Applies the caller's tool permissions: tools it may not offer are refused, or removed and named in a header. */
function permittedTools<R extends ToolFields>(ctx: RequestContext, deps: Pick<CoreDeps, "toolPermissions">, request: R): R {
  if (!deps.toolPermissions || request.tools.length === 0) return request;
  const { allowed, denied } = deps.toolPermissions.split(apiKeyOf(ctx.req), request.tools);
  if (denied.length === 0) return request;
  if (deps.toolPermissions.policy === "refuse") throw new ApiError(403, `This API key may not offer the tools ${denied.join(", ")}`, "permission_error", "tool_not_permitted", "tools");
  ctx.res.setHeader("x-edged-tools-removed", denied.join(", "));
  return { ...request, tools: allowed };
}

function constraintFor(format: OutputFormat | undefined, constraints: JsonConstraints): Promise<JsonConstraint> | undefined {
  if (!format) return undefined;
  return format.type === "json_object" ? constraints.anyObject() : constraints.forSchema(format.schema, format.param);
}

/** Surfaces that do not translate tool calls yet refuse a request that defines tools or carries their calls. */
export function refuseTools(request: Pick<CoreRequest, "tools" | "prompt" | "promptParam">, toolsParam = "tools"): void {
  if (request.tools.length > 0) throw apiErrors.invalidParam(toolsParam, `tools are not supported by this server yet (got ${request.tools.map((t) => t.name).join(", ")})`);
  if (messagesOf(request.prompt).some((m) => m.role === "tool" || (m.role === "assistant" && m.toolCalls?.length))) {
    throw apiErrors.invalidParam(request.promptParam, "tool calls and tool results are not supported by this server yet");
  }
}

/** The subject's most relevant memories (searched with the last user message) as the first system message. */
async function withMemories(prompt: CorePrompt, memory: CoreRequest["memory"], deps: GenerationDeps): Promise<CorePrompt> {
  if (!memory || !deps.memory || !("messages" in prompt)) return prompt;
  const messages = prompt.messages;
  const query = messages.filter((m) => m.role === "user").at(-1)?.content;
  if (!query) return prompt;
  const hits = await deps.memory.search({ query, subject: memory.subject, namespace: memory.namespace, k: memory.k, mode: "hybrid" });
  if (hits.length === 0) return prompt;
  const note = `What you remember about ${memory.subject}:\n${hits.map((h) => `- ${h.item.content}`).join("\n")}`;
  const [first, ...rest] = messages;
  const withNote: CoreMessage[] = first?.role === "system" ? [{ role: "system", content: `${first.content}\n\n${note}` }, ...rest] : [{ role: "system", content: note }, ...messages];
  return { messages: withNote };
}

export interface ServeOptions {
  /** The surface writes tool calls (its writer has `toolCall`); others refuse requests with tools. */
  tools?: boolean;
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Tools as the request offers them: valid names, each once, and a tool_choice naming one of them; none when the choice is "none". */
function offeredTools(request: ToolFields): ToolDefinition[] {
  const { tools, toolChoice } = request;
  tools.forEach((t, i) => {
    if (!NAME.test(t.name)) throw apiErrors.invalidParam(`tools.${i}.function.name`, `tool names are 1-64 letters, digits, _ or -; got ${JSON.stringify(t.name)}`);
    if (tools.findIndex((u) => u.name === t.name) !== i) throw apiErrors.invalidParam(`tools.${i}.function.name`, `the tool ${t.name} is defined twice`);
  });
  if (typeof toolChoice === "object" && !tools.some((t) => t.name === toolChoice.name)) {
    throw apiErrors.invalidParam("tool_choice", `tool_choice names ${toolChoice.name}, which is not among the tools offered`);
  }
  if (toolChoice === "required" && tools.length === 0) throw apiErrors.invalidParam("tool_choice", 'tool_choice "required" needs tools');
  return toolChoice === "none" ? [] : typeof toolChoice === "object" ? tools.filter((t) => t.name === toolChoice.name) : tools;
}

/** The history's tool calls carry JSON objects as arguments: the template and the cloud's translation both read them. */
function checkHistory(request: ToolFields): void {
  messagesOf(request.prompt).forEach((m, i) => {
    if (m.role !== "assistant") return;
    m.toolCalls?.forEach((call, j) => {
      let value: unknown;
      try {
        value = JSON.parse(call.arguments);
      } catch {
        value = undefined;
      }
      if (!value || typeof value !== "object" || Array.isArray(value)) {
        throw apiErrors.invalidParam(`${request.promptParam}.${i}.tool_calls.${j}.function.arguments`, `the arguments of ${call.name} are not a JSON object: ${call.arguments.slice(0, 100)}`);
      }
    });
  });
}

/**
 * The request as it may go on, and the tools the model may call: the caller's permissions applied, the definitions
 * and the history's calls checked.
 */
export function toolsOf<R extends ToolFields>(ctx: RequestContext, deps: Pick<CoreDeps, "toolPermissions">, request: R): { request: R; offered: ToolDefinition[] } {
  const permitted = permittedTools(ctx, deps, request);
  const offered = offeredTools(permitted);
  checkHistory(permitted);
  return { request: permitted, offered };
}

/**
 * The grammar and syntax of the calls a model may make to the offered tools. In "auto" the grammar applies lazily,
 * from the token that begins a call (when the vocabulary has tokens that begin the syntax alone). When a call is
 * certain ("required", or a named function), what it certainly begins with (the prefix; for a named function its
 * name and the parameters' opening too) is forced: evaluated with the prompt, not sampled token by token under the
 * grammar.
 */
async function toolPlan(request: CoreRequest, offered: ToolDefinition[], model: LlamaChatModel, constraints: JsonConstraints) {
  if (offered.length === 0) return undefined;
  const syntax = model.callSyntax;
  const functions = offered.map((t) => ({ name: t.name, parameters: t.parameters ?? { type: "object", properties: {} } }));
  const choice = request.toolChoice ?? "auto";
  const auto = choice === "auto";
  const tokens = auto ? model.callTokens(syntax.prefix) : undefined;
  const starts = tokens && [...new Set(tokens.starts.values())];
  const head = typeof choice === "object" ? `${syntax.prefix}${choice.name}${syntax.paramsPrefix}` : choice === "required" ? syntax.prefix : undefined;
  const forced = head === undefined ? undefined : model.answerTokens(head);
  const constraint = await constraints.forCalls(functions, syntax, { many: request.parallelToolCalls ?? true, text: auto, starts, ...(forced && { begun: head }) });
  const { afterStart } = constraint;
  const lazy = afterStart && tokens && { blocked: tokens.blocked, after: new Map([...tokens.starts].map(([token, text]) => [token, afterStart.get(text)!])) };
  return { constraint, syntax, names: offered.map((t) => t.name), lazy, forced };
}

/** Answers a request on its surface; resolves with the answer given, or undefined when it was queued or its stream broke off. */
export async function serveRequest(ctx: RequestContext, deps: CoreDeps, request: CoreRequest, surface: Surface, options: ServeOptions = {}): Promise<Answer | undefined> {
  if (!options.tools) refuseTools(request);
  const checked = toolsOf(ctx, deps, request);
  request = checked.request;
  const { offered } = checked;
  if (offered.length && request.format) throw apiErrors.invalidParam("response_format", "response_format and tools cannot be combined: the calls have their own grammar");
  const { router } = deps.routing;
  const route = router.routeFor(request.model);
  if (!route) throw apiErrors.modelNotFound(request.model);
  const constraint = await constraintFor(request.format, deps.constraints());
  const prompt = await withMemories(request.prompt, request.memory, deps);
  return deps.models.useChat(route.local, request.keepAliveMs, async (backend) => {
    const { model, scheduler } = backend;
    const turns = messagesOf(prompt);
    const functions = Object.fromEntries(offered.map((t) => [t.name, { description: t.description, params: t.parameters }]));
    const rendered = "messages" in prompt ? model.renderChat(turns, functions) : model.tokenizeText(prompt.text);
    const tools = await toolPlan(request, offered, model, deps.constraints());
    const earlier = request.evaluated;
    const tokens = earlier?.model === backend.entry.id ? model.withEvaluatedAnswer(rendered, earlier) : rendered;
    const room = model.sequenceContextSize - tokens.length;
    // "until the model stops" (Ollama's num_predict -1) is as much as the context holds, or the default for the cloud
    const maxTokens = Number.isFinite(request.maxTokens) ? request.maxTokens : room > 0 ? room : deps.limits.defaultMaxTokens;
    const input: RoutingInput = {
      route,
      messages: turns,
      promptTokens: tokens.length,
      maxTokens,
      fits: room > 0,
      ...request.routing,
      keyId: callerIdOf(ctx.req),
      local: {
        keys: localKeys(backend.entry.id, backend.device, Math.min(scheduler.busy + 1, scheduler.slots)),
        waitMs: scheduler.predictedWaitMs(request.priority),
        busy: scheduler.busy > 0,
      },
      localOnly: constraint ? "the output format is applied by the local grammar engine" : undefined,
    };
    return new RoutedRequest(ctx, deps, { ...request, prompt, maxTokens }, surface, backend, input, { prompt: tokens, constraint, tools }).serve();
  });
}
