/** POST /tokenize and POST /detokenize in llama.cpp server's shape, for apps that count or inspect tokens. */
import type { Token } from "node-llama-cpp";
import { z } from "zod";
import type { ModelRegistry } from "../../models/modelRegistry.js";
import { readJsonBody } from "../body.js";
import { apiErrors } from "../errors.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";

/** Which model's tokenizer: the one named, or the default chat model (llama.cpp's server has only one). */
const model = z.string().min(1).optional();

const TokenizeRequest = z.object({ model, content: z.string(), add_special: z.boolean().default(false), with_pieces: z.boolean().default(false) });
const DetokenizeRequest = z.object({ model, tokens: z.array(z.number().int().min(0)) });

export function tokenizeRoutes(deps: { models: ModelRegistry; limits: { bodyBytes: number } }): Route[] {
  return [
    {
      method: "POST",
      path: "/tokenize",
      async handle(ctx) {
        const body = TokenizeRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        await deps.models.useChat(body.model ?? deps.models.catalog.defaults.chat, undefined, async ({ model }) => {
          const tokens = model.tokenize(body.content, body.add_special);
          sendJson(ctx.res, 200, { tokens: body.with_pieces ? tokens.map((id, i) => ({ id, piece: model.pieceOf(id, tokens.slice(Math.max(0, i - 8), i)) })) : tokens });
        });
      },
    },
    {
      method: "POST",
      path: "/detokenize",
      async handle(ctx) {
        const body = DetokenizeRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        await deps.models.useChat(body.model ?? deps.models.catalog.defaults.chat, undefined, async ({ model }) => {
          const size = model.vocabularySize;
          const bad = body.tokens.findIndex((t) => t >= size);
          if (bad !== -1) throw apiErrors.invalidParam(`tokens.${bad}`, `token ${body.tokens[bad]} is not in the vocabulary (0 to ${size - 1})`);
          sendJson(ctx.res, 200, { content: model.detokenize(body.tokens as Token[]) });
        });
      },
    },
  ];
}
