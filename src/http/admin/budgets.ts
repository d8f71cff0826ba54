/** GET /v1/budgets: cloud tokens each API key spent this hour and in the last day, with the limits (keys by id, never the key). */
import { shownKeyId, type TokenBudget } from "../../router/tokenBudget.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";

export function budgetsRoute(budget: TokenBudget): Route {
  return {
    method: "GET",
    path: "/v1/budgets",
    async handle(ctx) {
      const { limits, keys } = budget.overview();
      sendJson(ctx.res, 200, {
        object: "list",
        limits: { per_hour: limits.perHour ?? null, per_day: limits.perDay ?? null },
        // the request log's key_id
        data: keys.map((k) => ({ key_id: shownKeyId(k.keyId), hour_tokens: k.hour, day_tokens: k.day })),
      });
    },
  };
}
