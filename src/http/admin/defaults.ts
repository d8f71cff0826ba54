/**
 * GET /v1/defaults: the default chat and embedding models and where the chat one comes from; PUT
 * /v1/defaults/chat {model}: makes a chat model the default for this data directory (`edged models set-default`),
 * after the eval gate when one is configured (409 with the failing metrics when it refuses).
 */
import { z } from "zod";
import { GateRefusedError } from "../../eval/gate.js";
import type { ModelCatalog } from "../../models/catalog.js";
import { DefaultFixedError, type DefaultChange } from "../../models/defaultChat.js";
import { readJsonBody } from "../body.js";
import { ApiError } from "../errors.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";

const SetDefault = z.object({ model: z.string().min(1) }).strict();

export function defaultsRoutes(deps: { catalog: ModelCatalog; setDefaultChat: (name: string) => Promise<DefaultChange>; limits: { bodyBytes: number } }): Route[] {
  const { catalog } = deps;
  return [
    {
      method: "GET",
      path: "/v1/defaults",
      handle: async (ctx) => {
        const source = catalog.configuredChat !== undefined ? "config" : catalog.defaults.chat === catalog.user?.defaultChat ? "stored" : "bundled";
        sendJson(ctx.res, 200, { chat: catalog.defaults.chat, chat_source: source, embedding: catalog.defaults.embedding ?? null });
      },
    },
    {
      method: "PUT",
      path: "/v1/defaults/chat",
      handle: async (ctx) => {
        const { model } = SetDefault.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        try {
          sendJson(ctx.res, 200, await deps.setDefaultChat(model));
        } catch (error) {
          if (error instanceof GateRefusedError) throw new ApiError(409, error.message, "invalid_request_error", "eval_gate_refused", "model");
          if (error instanceof DefaultFixedError) throw new ApiError(409, error.message, "invalid_request_error", "default_configured", "model");
          throw error;
        }
      },
    },
  ];
}
