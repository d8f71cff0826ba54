/** GET /health (the process answers), GET /ready (models loaded, not draining), GET /metrics (Prometheus). */
import type { ServedModels } from "../../models/servedModels.js";
import type { ServerMetrics } from "../../telemetry/serverMetrics.js";
import { sendJson, sendText } from "../respond.js";
import type { Route } from "../routes.js";

export function adminRoutes(models: ServedModels, metrics: ServerMetrics): Route[] {
  return [
    { method: "GET", path: "/health", public: true, handle: async (ctx) => sendJson(ctx.res, 200, { status: "ok" }) },
    {
      method: "GET",
      path: "/ready",
      public: true,
      async handle(ctx) {
        const reason = models.notReadyReason;
        sendJson(ctx.res, reason ? 503 : 200, reason ? { status: "loading", reason } : { status: "ready", models: models.cards().map((c) => c.id) });
      },
    },
    { method: "GET", path: "/metrics", handle: async (ctx) => sendText(ctx.res, 200, metrics.registry.render(), "text/plain; version=0.0.4; charset=utf-8") },
  ];
}
