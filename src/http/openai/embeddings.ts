/** POST /v1/embeddings, served by the ONNX embedder. */
import type { ModelRegistry } from "../../models/modelRegistry.js";
import { readJsonBody } from "../body.js";
import { apiErrors } from "../errors.js";
import { sendJson } from "../respond.js";
import type { Route } from "../routes.js";
import { EmbeddingRequest } from "./schemas.js";

export function embeddingsRoute(deps: { models: ModelRegistry; limits: { bodyBytes: number } }): Route {
  return {
    method: "POST",
    path: "/v1/embeddings",
    async handle(ctx) {
      const body = EmbeddingRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
      await deps.models.useEmbedding(body.model, undefined, async (backend) => {
        const dims = backend.entry.dimensions;
        if (body.dimensions !== undefined && body.dimensions !== dims) {
          throw apiErrors.invalidParam(
            "dimensions",
            `${backend.entry.id} produces ${dims}-dimensional embeddings; dimensions=${body.dimensions} is not supported`,
          );
        }
        const vectors = await backend.embedder.embed(body.input);
        ctx.signal.throwIfAborted();
        const tokens = backend.embedder.tokenCounts(body.input).reduce((a, b) => a + b, 0);
        const encode = (v: Float32Array) =>
          body.encoding_format === "base64" ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : Array.from(v);
        sendJson(ctx.res, 200, {
          object: "list",
          data: vectors.map((v, index) => ({ object: "embedding", index, embedding: encode(v) })),
          model: backend.entry.id,
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        });
      });
    },
  };
}
