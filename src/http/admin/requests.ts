/** GET /v1/requests: the latest routing records (the request log's route lines), newest first. */
import { z } from "zod";
import type { RecentRoutes } from "../../telemetry/recentRoutes.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";

const Query = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).strict();

export function recentRequestsRoute(recent: RecentRoutes): Route {
  return {
    method: "GET",
    path: "/v1/requests",
    async handle(ctx) {
      const { limit } = Query.parse(Object.fromEntries(ctx.url.searchParams));
      sendJson(ctx.res, 200, { object: "list", data: recent.latest(limit) });
    },
  };
}
