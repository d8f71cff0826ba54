/** POST /v1/chat/completions */
import type { LlamaGrammar } from "node-llama-cpp";
import type { ChatMessage } from "../../engines/llama/chatModel.js";
import type { GrammarCache } from "../../engines/llama/grammars.js";
import { readJsonBody } from "../body.js";
import { deadlineOf } from "../deadline.js";
import { priorityOf } from "../priority.js";
import type { Route } from "../routes.js";
import { SseStream } from "../eventStream.js";
import { newId, runGeneration, samplingFrom, type GenerationDeps, type ResponseShape } from "../generation.js";
import { ChatCompletionRequest, type ResponseFormat } from "./schemas.js";
import { closingChunks, usageOf } from "./usage.js";

async function grammarFor(format: ResponseFormat | undefined, grammars: GrammarCache): Promise<LlamaGrammar | undefined> {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return grammars.anyJson();
  return grammars.forSchema(format.json_schema.schema);
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

function chatShape(id: string, model: string, includeUsage: boolean): ResponseShape {
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: "chat.completion.chunk", created, model, system_fingerprint: "edged" };
  return {
    openingChunk: () => ({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] }),
    chunk: (text) => ({ ...base, choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }] }),
    finalChunks: (result) => closingChunks(base, { index: 0, delta: {}, logprobs: null, finish_reason: result.finishReason }, result, includeUsage),
    response: (result) => ({
      id,
      object: "chat.completion",
      created,
      model,
      system_fingerprint: "edged",
      choices: [{ index: 0, message: { role: "assistant", content: result.text, refusal: null }, logprobs: null, finish_reason: result.finishReason }],
      usage: usageOf(result),
    }),
  };
}

export function chatCompletionsRoute(deps: GenerationDeps): Route {
  return {
    method: "POST",
    path: "/v1/chat/completions",
    async handle(ctx) {
      const body = ChatCompletionRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
      const deadlineMs = deadlineOf(ctx.req, body.deadline_ms, deps.limits.defaultDeadlineMs);
      const grammar = await grammarFor(body.response_format, deps.grammars());
      const messages = await withMemories(
        body.messages.map((m) => ({ role: m.role === "developer" ? "system" : m.role, content: m.content })),
        body.memory,
        deps,
      );
      await deps.models.useChat(body.model, undefined, async (backend) => {
        const prompt = backend.model.renderChat(messages);
        backend.model.assertFits(prompt, "messages");
        await runGeneration(
          ctx,
          backend,
          deps.metrics,
          {
            prompt,
            maxTokens: body.max_completion_tokens ?? body.max_tokens ?? deps.limits.defaultMaxTokens,
            sampling: samplingFrom(body),
            stop: body.stop,
            grammar,
            stream: body.stream ? new SseStream(ctx.res) : undefined,
            deadlineMs,
            priority: priorityOf(ctx.req, body.priority),
          },
          chatShape(newId("chatcmpl"), backend.entry.id, body.stream_options?.include_usage ?? false),
        );
      });
    },
  };
}
