/** GET /api/version, GET /api/tags, GET /api/ps, POST /api/show, POST /api/embed: Ollama's model endpoints. */
import { createRequire } from "node:module";
import { durationMs } from "../../config/duration.js";
import type { ModelEntry } from "../../models/manifest.js";
import type { ModelRegistry } from "../../models/modelRegistry.js";
import { readJsonBody } from "../body.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";
import { EmbedRequest, ShowRequest } from "./schemas.js";

const FOREVER = "9999-12-31T23:59:59Z";
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
          models: models.manifest.models.map((m) => ({ name: m.id, model: m.id, modified_at: modified, size: m.bytes, digest: m.sha256, details: details(m) })),
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
        const body = ShowRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        const name = (body.model ?? body.name)!;
        const entry = models.entryFor(name);
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
