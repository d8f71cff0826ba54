/**
 * POST /v1/chat/completions: the body read, memories added, the prompt rendered for the route's local model,
 * and the request handed to the router (see routedChat.ts for what follows).
 */
import type { ChatMessage } from "../../engines/llama/chatModel.js";
import type { JsonConstraint, JsonConstraints } from "../../engines/llama/grammar/constraints.js";
import { localKeys, type RoutingInput } from "../../router/router.js";
import { readJsonBody } from "../body.js";
import { deadlineOf } from "../deadline.js";
import { apiErrors } from "../errors.js";
import type { GenerationDeps } from "../generation.js";
import { priorityOf } from "../priority.js";
import { budgetKeyOf, routingOf } from "../routing.js";
import type { Route } from "../routes.js";
import { RoutedChat } from "./routedChat.js";
import type { RoutingDeps } from "./routingDeps.js";
import { ChatCompletionRequest, type ResponseFormat } from "./schemas.js";

async function constraintFor(format: ResponseFormat | undefined, constraints: JsonConstraints): Promise<JsonConstraint | undefined> {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return constraints.anyObject();
  return constraints.forSchema(format.json_schema.schema, "response_format.json_schema.schema");
}

/** The subject's most relevant memories (searched with the last user message) as the first system message. */
async function withMemories(messages: ChatMessage[], memory: ChatCompletionRequest["memory"], deps: GenerationDeps): Promise<ChatMessage[]> {
  if (!memory || !deps.memory) return messages;
  const query = messages.filter((m) => m.role === "user").at(-1)?.content;
  if (!query) return messages;
  const hits = await deps.memory.search({ query, subject: memory.subject, namespace: memory.namespace, k: memory.k, mode: "hybrid" });
  if (hits.length === 0) return messages;
  const note = `What you remember about ${memory.subject}:\n${hits.map((h) => `- ${h.item.content}`).join("\n")}`;
  const [first, ...rest] = messages;
  return first?.role === "system" ? [{ role: "system", content: `${first.content}\n\n${note}` }, ...rest] : [{ role: "system", content: note }, ...messages];
}

export function chatCompletionsRoute(deps: GenerationDeps & { routing: RoutingDeps }): Route {
  return {
    method: "POST",
    path: "/v1/chat/completions",
    async handle(ctx) {
      const body = ChatCompletionRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
      const { router, budget } = deps.routing;
      const routing = routingOf(ctx.req, body.edged, router.defaultBudgetMs);
      const route = router.routeFor(body.model);
      if (!route) throw apiErrors.modelNotFound(body.model);
      const deadlineMs = deadlineOf(ctx.req, body.deadline_ms, deps.limits.defaultDeadlineMs);
      const priority = priorityOf(ctx.req, body.priority);
      const constraint = await constraintFor(body.response_format, deps.constraints());
      const messages = await withMemories(
        body.messages.map(({ role, content }) => ({ role, content })),
        body.memory,
        deps,
      );
      const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? deps.limits.defaultMaxTokens;
      await deps.models.useChat(route.local, undefined, async (backend) => {
        const prompt = backend.model.renderChat(messages);
        const input: RoutingInput = {
          route,
          messages,
          promptTokens: prompt.length,
          maxTokens,
          fits: prompt.length < backend.model.sequenceContextSize,
          ...routing,
          keyId: budgetKeyOf(ctx.req, budget),
          local: {
            keys: localKeys(backend.entry.id, backend.device, Math.min(backend.scheduler.busy + 1, backend.scheduler.slots)),
            waitMs: backend.scheduler.predictedWaitMs(priority),
            busy: backend.scheduler.busy > 0,
          },
          localOnly: constraint ? "response_format is applied by the local grammar engine" : undefined,
        };
        await new RoutedChat(ctx, deps, body, backend, input, { prompt, constraint, deadlineMs, priority }).serve();
      });
    },
  };
}

