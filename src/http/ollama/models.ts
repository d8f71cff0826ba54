/** GET /api/version, GET /api/tags, GET /api/ps, POST /api/show, POST /api/embed: Ollama's model endpoints. */
import { createRequire } from "node:module";
import { durationMs } from "../../config/duration.js";
import { readGgufFileInfo } from "node-llama-cpp";
import { chooseChatTemplate } from "../../engines/llama/chatTemplate.js";
import type { ModelEntry } from "../../models/entry.js";
import type { ModelRegistry } from "../../models/modelRegistry.js";
import { readOllamaBody } from "./body.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";
import { EmbedRequest, ShowRequest } from "./schemas.js";

const FOREVER = "9999-12-31T23:59:59Z";
const VERSION = (createRequire(import.meta.url)("../../../../package.json") as { version: string }).version;

const sizeLabel = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : `${(n / 1e6).toFixed(1)}M`);

function details(entry: ModelEntry) {
  const family = entry.engine === "llama" ? (entry.gguf?.architecture ?? "llama") : "bert";
  return {
    parent_model: "",
    format: entry.engine === "llama" ? "gguf" : "onnx",
    family,
    families: [family],
    parameter_size: entry.parameters ? sizeLabel(entry.parameters) : "",
    quantization_level: entry.quant,
  };
}

/** Ollama's Modelfile parameters of a model's defaults. */
function parameters(entry: ModelEntry): string {
  if (entry.engine !== "llama") return "";
  const d = entry.defaults;
  const lines = [
    ...(d.stop ?? []).map((s) => `stop ${JSON.stringify(s)}`),
    ...(d.temperature !== undefined ? [`temperature ${d.temperature}`] : []),
    ...(d.topP !== undefined ? [`top_p ${d.topP}`] : []),
    ...(d.topK !== undefined ? [`top_k ${d.topK}`] : []),
    `num_ctx ${entry.contextSize}`,
  ];
  return lines.join("\n");
}

/** The GGUF's keys (long arrays left out, as Ollama does), the template and how edged renders chats with it. */
async function llamaShow(entry: Extract<ModelEntry, { engine: "llama" }>) {
  const fileInfo = await readGgufFileInfo(entry.path, { sourceType: "filesystem", logWarnings: false, readTensorInfo: false });
  const choice = chooseChatTemplate({ fileInfo, filename: entry.path, override: entry.template });
  const own = fileInfo.metadata?.tokenizer?.chat_template;
  return {
    model_info: { ...(entry.gguf?.metadata ?? { "general.architecture": "llama" }), [`${entry.gguf?.architecture ?? "llama"}.context_length`]: entry.contextSize },
    template: entry.template?.text ?? (typeof own === "string" ? own : ""),
    system: entry.defaults.system ?? "",
    chat_template: { description: choice.description, fallback: choice.fallback },
  };
}

export interface OllamaModelDeps {
  models: ModelRegistry;
  startedAt: Date;
  limits: { bodyBytes: number };
}

export function ollamaModelRoutes(deps: OllamaModelDeps): Route[] {
  const { models } = deps;
  const modified = deps.startedAt.toISOString();
  return [
    { method: "GET", path: "/api/version", errorShape: "ollama", handle: async (ctx) => sendJson(ctx.res, 200, { version: VERSION }) },
    {
      method: "GET",
      path: "/api/tags",
      errorShape: "ollama",
      handle: async (ctx) =>
        sendJson(ctx.res, 200, {
          models: models.catalog.entries().map((m) => ({ name: m.id, model: m.id, modified_at: modified, size: m.bytes, digest: m.sha256 ?? "", details: details(m) })),
        }),
    },
    {
      method: "GET",
      path: "/api/ps",
      errorShape: "ollama",
      async handle(ctx) {
        sendJson(ctx.res, 200, {
          models: models.residents().map((r) => ({
            name: r.entry.id,
            model: r.entry.id,
            size: Math.round(r.placement.estimate.cpuRam + r.placement.estimate.gpuVram),
            size_vram: Math.round(r.placement.estimate.gpuVram),
            digest: r.entry.sha256,
            details: details(r.entry),
            // a model kept forever gets a date far ahead, as Ollama gives one
            expires_at: Number.isFinite(r.expiresAt) ? new Date(r.expiresAt).toISOString() : FOREVER,
          })),
        });
      },
    },
    {
      method: "POST",
      path: "/api/show",
      errorShape: "ollama",
      async handle(ctx) {
        const body = ShowRequest.parse(await readOllamaBody(ctx.req, deps.limits.bodyBytes));
        const name = (body.model ?? body.name)!;
        const entry = models.entryFor(name);
        const shown = entry.engine === "llama" ? await llamaShow(entry) : { model_info: { "general.architecture": "bert", "bert.embedding_length": entry.dimensions }, template: "", system: "" };
        sendJson(ctx.res, 200, {
          modelfile: `# Modelfile of ${entry.id} (${entry.source.kind}: ${entry.source.detail})\nFROM ${entry.path}\n`,
          parameters: parameters(entry),
          ...shown,
          details: details(entry),
          capabilities: entry.engine === "llama" ? ["completion", "tools"] : ["embedding"],
          modified_at: modified,
        });
      },
    },
    {
      method: "POST",
      path: "/api/embed",
      errorShape: "ollama",
      async handle(ctx) {
        const started = performance.now();
        const body = EmbedRequest.parse(await readOllamaBody(ctx.req, deps.limits.bodyBytes));
        await models.useEmbedding(body.model, body.keep_alive === undefined ? undefined : durationMs(body.keep_alive), async (backend) => {
          const vectors = await backend.embedder.embed(body.input);
          sendJson(ctx.res, 200, {
            model: backend.entry.id,
            embeddings: vectors.map((v) => Array.from(v)),
            total_duration: Math.round((performance.now() - started) * 1e6),
            load_duration: 0,
            prompt_eval_count: backend.embedder.tokenCounts(body.input).reduce((a, b) => a + b, 0),
          });
        });
      },
    },
  ];
}
