/** GET /health (the process answers), GET /ready (models loaded, not draining), GET /metrics (Prometheus). */
import { formatBytes, type DataDirectory } from "../../db/storage.js";
import type { ModelRegistry } from "../../models/modelRegistry.js";
import type { ServerMetrics } from "../../telemetry/serverMetrics.js";
import { sendJson, sendText } from "../respond.js";
import type { Route } from "../routes.js";

/** Why the daemon cannot serve everything now, or undefined when it can. */
function notReady(models: ModelRegistry, storage: DataDirectory): { status: string; reason: string } | undefined {
  if (models.notReadyReason) return { status: "loading", reason: models.notReadyReason };
  if (storage.full) return { status: "storage_full", reason: `the data directory ${storage.path} is full (${formatBytes(storage.freeBytes())} free): memory, queue and usage writes are refused` };
  return undefined;
}

export function adminRoutes(models: ModelRegistry, metrics: ServerMetrics, storage: DataDirectory): Route[] {
  return [
    { method: "GET", path: "/health", public: true, handle: async (ctx) => sendJson(ctx.res, 200, { status: "ok" }) },
    {
      method: "GET",
      path: "/ready",
      public: true,
      async handle(ctx) {
        const why = notReady(models, storage);
        sendJson(ctx.res, why ? 503 : 200, why ?? { status: "ready", loaded: models.residents().map((r) => r.entry.id) });
      },
    },
    {
      method: "GET",
      path: "/v1/loaded",
      handle: async (ctx) =>
        sendJson(ctx.res, 200, {
          models: models.residents().map((r) => ({
            id: r.entry.id,
            engine: r.entry.engine,
            device: r.placement.device,
            gpu_layers: r.placement.gpuLayers,
            onnx_provider: r.placement.onnxProvider,
            ram_bytes: Math.round(r.placement.estimate.cpuRam),
            vram_bytes: Math.round(r.placement.estimate.gpuVram),
            in_use: r.inUse,
            expires_at: Number.isFinite(r.expiresAt) ? new Date(r.expiresAt).toISOString() : null,
            placement: r.placement.reason,
            ...(r.threads !== undefined && { threads: r.threads }),
          })),
        }),
    },
    { method: "GET", path: "/metrics", handle: async (ctx) => sendText(ctx.res, 200, metrics.registry.render(), "text/plain; version=0.0.4; charset=utf-8") },
  ];
}
