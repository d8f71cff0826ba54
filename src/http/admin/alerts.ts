/** GET /v1/alerts: every alert rule with its state (firing ones first), its signal's value and why, and when they were evaluated. */
import type { AlertEngine } from "../../alerts/engine.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";

export function alertsRoute(alerts: AlertEngine): Route {
  return {
    method: "GET",
    path: "/v1/alerts",
    handle: async (ctx) => {
      const all = alerts.alerts();
      const at = alerts.evaluatedAt;
      sendJson(ctx.res, 200, { evaluated_at: at === undefined ? null : new Date(at).toISOString(), firing: all.filter((a) => a.state === "firing").length, alerts: all });
    },
  };
}
