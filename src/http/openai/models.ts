/** GET /v1/models and GET /v1/models/{model} */
import type { ModelRegistry } from "../../models/modelRegistry.js";
import { apiErrors } from "../errors.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";

export function modelRoutes(models: ModelRegistry): Route[] {
  return [
    { method: "GET", path: "/v1/models", handle: async (ctx) => sendJson(ctx.res, 200, { object: "list", data: models.cards() }) },
    {
      method: "GET",
      path: "/v1/models/{model}",
      async handle(ctx) {
        const card = models.cards().find((c) => c.id === ctx.params.model);
        if (!card) throw apiErrors.modelNotFound(ctx.params.model!);
        sendJson(ctx.res, 200, card);
      },
    },
  ];
}
