/** GET /v1/alerts: every alert rule with its state (firing ones first), its signal's value and why. */
import type { AlertEngine } from "../../alerts/engine.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";

export function alertsRoute(alerts: AlertEngine): Route {
  return {
    method: "GET",
    path: "/v1/alerts",
    handle: async (ctx) => {
      const all = alerts.alerts();
      sendJson(ctx.res, 200, { firing: all.filter((a) => a.state === "firing").length, alerts: all });
    },
  };
}
