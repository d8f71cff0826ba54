/** GET /api/version, GET /api/tags, GET /api/ps, POST /api/show, POST /api/embed: Ollama's model endpoints. */
import { createRequire } from "node:module";
import type { LoadedManifest, ModelEntry } from "../../models/manifest.js";
import type { ServedModels } from "../../models/servedModels.js";
import { readJsonBody } from "../body.js";
import { apiErrors } from "../errors.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";
import { EmbedRequest, ShowRequest } from "./schemas.js";

const VERSION = (createRequire(import.meta.url)("../../../../package.json") as { version: string }).version;

function details(entry: ModelEntry) {
  return {
    parent_model: "",
    format: entry.engine === "llama" ? "gguf" : "onnx",
    family: entry.engine === "llama" ? "llama" : "bert",
    families: [entry.engine === "llama" ? "llama" : "bert"],
    parameter_size: entry.parameters ? `${(entry.parameters / 1e6).toFixed(1)}M` : "",
    quantization_level: entry.quant,
  };
}

export interface OllamaModelDeps {
  models: ServedModels;
  manifest: LoadedManifest;
  startedAt: Date;
  limits: { bodyBytes: number };
}

export function ollamaModelRoutes(deps: OllamaModelDeps): Route[] {
  const { models, manifest } = deps;
  const modified = deps.startedAt.toISOString();
  const find = (name: string) => manifest.models.find((m) => m.id === name || (!name.includes(":") && m.id.split(":")[0] === name && (m.id === manifest.defaults.chat || m.id === manifest.defaults.embedding)));
  return [
    { method: "GET", path: "/api/version", errorShape: "ollama", handle: async (ctx) => sendJson(ctx.res, 200, { version: VERSION }) },
    {
      method: "GET",
      path: "/api/tags",
      errorShape: "ollama",
      handle: async (ctx) =>
        sendJson(ctx.res, 200, { models: manifest.models.map((m) => ({ name: m.id, model: m.id, modified_at: modified, size: m.bytes, digest: m.sha256, details: details(m) })) }),
    },
    {
      method: "GET",
      path: "/api/ps",
      errorShape: "ollama",
      async handle(ctx) {
        const loaded = [models.chat, models.embedding].filter((b) => b !== undefined);
        sendJson(ctx.res, 200, {
          models: loaded.map((b) => ({ name: b.entry.id, model: b.entry.id, size: b.entry.bytes, digest: b.entry.sha256, details: details(b.entry), expires_at: "0001-01-01T00:00:00Z", size_vram: 0 })),
        });
      },
    },
    {
      method: "POST",
      path: "/api/show",
      errorShape: "ollama",
      async handle(ctx) {
        const body = ShowRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        const name = (body.model ?? body.name)!;
        const entry = find(name);
        if (!entry) throw apiErrors.modelNotFound(name);
        const info: Record<string, unknown> = { "general.architecture": entry.engine === "llama" ? "llama" : "bert" };
        if (entry.engine === "llama") info["llama.context_length"] = entry.contextSize;
        else info["bert.embedding_length"] = entry.dimensions;
        sendJson(ctx.res, 200, {
          modelfile: `FROM ${entry.file}`,
          parameters: "",
          template: "",
          details: details(entry),
          model_info: info,
          capabilities: entry.engine === "llama" ? ["completion"] : ["embedding"],
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
        const body = EmbedRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        const backend = models.resolveEmbedding(body.model);
        const vectors = await backend.embedder.embed(body.input);
        sendJson(ctx.res, 200, {
          model: backend.entry.id,
          embeddings: vectors.map((v) => Array.from(v)),
          total_duration: Math.round((performance.now() - started) * 1e6),
          load_duration: 0,
          prompt_eval_count: backend.embedder.tokenCounts(body.input).reduce((a, b) => a + b, 0),
        });
      },
    },
  ];
}
