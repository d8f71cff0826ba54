/**
 * Playground: a chat with any model or route, streamed through /v1/chat/completions with the routing controls
 * (latency budget, privacy, priority) as headers, optional tools and a JSON schema, and for each answer the route
 * the router chose and why, its TTFT and its decode rate.
 */
import { json, stream } from "./api.js";
import { field, fill, h, ms, state } from "./dom.js";
import type { Page } from "./page.js";

interface Message {
  role: "user" | "assistant" | "tool";
  content: string | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}

interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

interface Chunk {
  choices?: { delta?: { content?: string | null; tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[] }; finish_reason?: string | null }[];
  usage?: { completion_tokens: number; prompt_tokens: number };
  error?: { message: string };
}

const ROUTE_HEADERS = ["x-edged-route", "x-edged-route-reason", "x-edged-predicted-ms", "x-edged-cloud-target", "x-edged-fallback", "x-edged-cascade", "x-edged-redactions", "x-edged-tools-removed"];

/** A JSON textarea's value, parsed, or undefined when empty; a parse error names the field. */
function parsedJson(area: HTMLTextAreaElement, what: string): unknown {
  const text = area.value.trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not JSON: ${(error as Error).message}`);
  }
}

function turnView(role: string, body: HTMLElement, meta?: HTMLElement): HTMLElement {
  return h("article", { class: `turn ${role}` }, h("h3", {}, role), body, meta);
}

export const playground: Page = {
  title: "Playground",
  show(view, signal) {
    const model = h("input", { list: "model-ids", required: true, autocomplete: "off" });
    const ids = h("datalist", { id: "model-ids" });
    const budget = h("input", { type: "number", min: 1, placeholder: "the router's default" });
    const privacy = h("select", {}, h("option", { value: "default" }, "default"), h("option", { value: "local_only" }, "local_only: never leaves the device"));
    const priority = h("select", {}, ["interactive", "background", "batch"].map((p) => h("option", { value: p }, p)));
    const maxTokens = h("input", { type: "number", min: 1, value: 64 });
    const tools = h("textarea", { rows: 3, placeholder: '[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]' });
    const schema = h("textarea", { rows: 3, placeholder: '{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}' });
    const prompt = h("textarea", { rows: 3, required: true });
    const send = h("button", { type: "submit" }, "Send");
    const stop = h("button", { type: "button", disabled: true }, "Stop");
    const clear = h("button", { type: "button" }, "New chat");
    const transcript = h("div", { class: "transcript", "aria-live": "polite" });
    const form = h(
      "form",
      { class: "playground" },
      h(
        "fieldset",
        {},
        h("legend", {}, "Request"),
        field("Model or route", model, "pg-model"),
        ids,
        field("Latency budget (ms)", budget, "pg-budget"),
        field("Privacy", privacy, "pg-privacy"),
        field("Priority", priority, "pg-priority"),
        field("Max tokens", maxTokens, "pg-max-tokens"),
        h("details", {}, h("summary", {}, "Tools and JSON schema"), field("Tools (JSON array, OpenAI format)", tools, "pg-tools"), field("Response JSON schema", schema, "pg-schema")),
      ),
      field("Message", prompt, "pg-prompt"),
      h("div", { class: "buttons" }, send, stop, clear),
    );
    fill(view, h("h1", { tabindex: "-1" }, "Playground"), form, transcript);

    void json<{ data: { id: string; capabilities?: { chat?: boolean } }[] }>("/v1/models").then(
      (list) => {
        const chat = list.data.filter((m) => m.capabilities?.chat !== false);
        fill(ids, chat.map((m) => h("option", { value: m.id })));
        if (!model.value && chat[0]) model.value = chat[0].id;
      },
      (error: Error) => transcript.prepend(state("error", `the models could not be listed: ${error.message}`)),
    );

    let history: Message[] = [];
    let running: AbortController | undefined;
    signal.addEventListener("abort", () => running?.abort());
    clear.addEventListener("click", () => {
      history = [];
      transcript.replaceChildren();
    });
    stop.addEventListener("click", () => running?.abort());
    prompt.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answer = h("p", { class: "answer" });
      const meta = h("p", { class: "meta" }, "sending…");
      let request: Record<string, unknown>;
      try {
        const toolList = parsedJson(tools, "Tools");
        const format = parsedJson(schema, "The JSON schema");
        history.push({ role: "user", content: prompt.value });
        request = {
          model: model.value.trim(),
          messages: history,
          stream: true,
          stream_options: { include_usage: true },
          max_tokens: Number(maxTokens.value) || undefined,
          ...(toolList !== undefined && { tools: toolList }),
          ...(format !== undefined && { response_format: { type: "json_schema", json_schema: { name: "answer", schema: format } } }),
        };
      } catch (error) {
        transcript.append(state("error", (error as Error).message));
        return;
      }
      transcript.append(turnView("user", h("p", {}, prompt.value)), turnView("assistant", answer, meta));
      prompt.value = "";
      const headers: Record<string, string> = { "x-edged-privacy": privacy.value, "x-edged-priority": priority.value };
      if (budget.value) headers["x-edged-latency-budget-ms"] = budget.value;
      running = new AbortController();
      send.disabled = true;
      stop.disabled = false;
      const started = performance.now();
      let firstAt: number | undefined;
      let route = "";
      let usage: Chunk["usage"];
      let finish: string | undefined;
      let text = "";
      const calls: ToolCall[] = [];
      const showCalls = () => calls.map((c) => `${c.function.name}(${c.function.arguments})`).join("\n");
      try {
        await stream(
          "/v1/chat/completions",
          request,
          headers,
          {
            onOpen(got) {
              route = ROUTE_HEADERS.filter((name) => got.get(name)).map((name) => `${name.replace("x-edged-", "")}: ${got.get(name)}`).join(" · ");
              meta.textContent = route || "streaming…";
            },
            onEvent(data) {
              if (data === "[DONE]") return;
              const chunk = JSON.parse(data) as Chunk;
              if (chunk.error) throw new Error(chunk.error.message);
              if (chunk.usage) usage = chunk.usage;
              finish = chunk.choices?.[0]?.finish_reason ?? finish;
              const delta = chunk.choices?.[0]?.delta;
              if (delta?.content) {
                firstAt ??= performance.now();
                text += delta.content;
                answer.textContent = text;
              }
              for (const part of delta?.tool_calls ?? []) {
                firstAt ??= performance.now();
                const call = (calls[part.index] ??= { id: part.id ?? "", type: "function", function: { name: "", arguments: "" } });
                if (part.id) call.id = part.id;
                call.function.name += part.function?.name ?? "";
                call.function.arguments += part.function?.arguments ?? "";
                answer.textContent = [text, showCalls()].filter(Boolean).join("\n");
              }
            },
          },
          running.signal,
        );
        const done = performance.now();
        history.push({ role: "assistant", content: text || null, ...(calls.length && { tool_calls: calls }) });
        const decodeMs = firstAt === undefined ? 0 : done - firstAt;
        const rate = usage && usage.completion_tokens > 1 && decodeMs > 0 ? `${(((usage.completion_tokens - 1) * 1000) / decodeMs).toFixed(1)} tok/s` : "–";
        meta.textContent = [route, `TTFT ${ms(firstAt === undefined ? undefined : firstAt - started)}`, `${usage?.completion_tokens ?? "?"} tokens`, rate, `total ${ms(done - started)}`, finish && `finished: ${finish}`].filter(Boolean).join(" · ");
        meta.dataset.ttft = String(firstAt === undefined ? "" : firstAt - started);
      } catch (error) {
        history.pop(); // the question stays on screen; the next request is sent without it
        meta.replaceWith(state("error", running.signal.aborted ? "stopped" : (error as Error).message));
      } finally {
        send.disabled = false;
        stop.disabled = true;
        running = undefined;
      }
    });
  },
};
