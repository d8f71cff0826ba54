/**
 * The request core's entry: a surface hands in its request read into the internal shape and the writer of its wire
 * format; this resolves the route, adds memories, renders the prompt for the route's local model and hands it to the
 * router (routedRequest.ts carries out the decision).
 */
import type { JsonConstraint, JsonConstraints } from "../engines/llama/grammar/constraints.js";
import { localKeys, type RoutingInput } from "../router/router.js";
import type { CloudMessage } from "../cloud/types.js";
import { apiErrors } from "../http/errors.js";
import { budgetKeyOf } from "../http/routing.js";
import type { RequestContext } from "../http/routes.js";
import type { GenerationDeps } from "./localAnswer.js";
import type { CoreMessage, CorePrompt, CoreRequest, OutputFormat } from "./request.js";
import { messagesOf } from "./request.js";
import { RoutedRequest } from "./routedRequest.js";
import type { RoutingDeps } from "./routingDeps.js";
import type { Answer, Surface } from "./surface.js";

export type CoreDeps = GenerationDeps & { routing: RoutingDeps };

function constraintFor(format: OutputFormat | undefined, constraints: JsonConstraints): Promise<JsonConstraint> | undefined {
  if (!format) return undefined;
  return format.type === "json_object" ? constraints.anyObject() : constraints.forSchema(format.schema, format.param);
}

/** Tool calling is not served yet: a request that defines tools or carries their calls is refused on every surface. */
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

/** Text-only messages, as the chat template and the cloud take them (tool messages were refused before). */
export const cloudMessages = (messages: CoreMessage[]): CloudMessage[] => messages.flatMap((m) => (m.role === "tool" ? [] : [{ role: m.role, content: m.content }]));

export interface ServeOptions {
  /** The request field that defines tools, for the refusal ("tools"). */
  toolsParam?: string;
}

/** Answers a request on its surface; resolves with the answer given, or undefined when it was queued or its stream broke off. */
export async function serveRequest(ctx: RequestContext, deps: CoreDeps, request: CoreRequest, surface: Surface, options: ServeOptions = {}): Promise<Answer | undefined> {
  refuseTools(request, options.toolsParam);
  const { router, budget } = deps.routing;
  const route = router.routeFor(request.model);
  if (!route) throw apiErrors.modelNotFound(request.model);
  const constraint = await constraintFor(request.format, deps.constraints());
  const prompt = await withMemories(request.prompt, request.memory, deps);
  return deps.models.useChat(route.local, request.keepAliveMs, async (backend) => {
    const { model, scheduler } = backend;
    const messages = cloudMessages(messagesOf(prompt));
    const rendered = "messages" in prompt ? model.renderChat(messages) : model.tokenizeText(prompt.text);
    const earlier = request.evaluated;
    const tokens = earlier?.model === backend.entry.id ? model.withEvaluatedAnswer(rendered, earlier) : rendered;
    const room = model.sequenceContextSize - tokens.length;
    // "until the model stops" (Ollama's num_predict -1) is as much as the context holds, or the default for the cloud
    const maxTokens = Number.isFinite(request.maxTokens) ? request.maxTokens : room > 0 ? room : deps.limits.defaultMaxTokens;
    const input: RoutingInput = {
      route,
      messages,
      promptTokens: tokens.length,
      maxTokens,
      fits: room > 0,
      ...request.routing,
      keyId: budgetKeyOf(ctx.req, budget),
      local: {
        keys: localKeys(backend.entry.id, backend.device, Math.min(scheduler.busy + 1, scheduler.slots)),
        waitMs: scheduler.predictedWaitMs(request.priority),
        busy: scheduler.busy > 0,
      },
      localOnly: constraint ? "the output format is applied by the local grammar engine" : undefined,
    };
    return new RoutedRequest(ctx, deps, { ...request, prompt, maxTokens }, surface, backend, input, { prompt: tokens, constraint }).serve();
  });
}
