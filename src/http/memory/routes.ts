/** /v1/memory: the audited memory over REST, validated by zod, errors in OpenAI's shape. */
import { z } from "zod";
import type { MemoryService } from "../../memory/memoryService.js";
import { CreateMemory, SearchMemory, UpdateMemory, WriteContext } from "../../memory/schemas.js";
import { readJsonBody } from "../body.js";
import { sendJson } from "../respond.js";
import type { RequestContext, Route } from "../routes.js";

const Rollback = z.object({ version: z.number().int().positive(), ...WriteContext.shape });
const Receipt = z.object({
  item_id: z.string(),
  forgotten_at: z.number(),
  content_hashes: z.array(z.string()),
  audit_seq: z.number().int().positive(),
  audit_hash: z.string(),
});
const ListQuery = z.object({
  namespace: z.string().optional(),
  subject: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function memoryRoutes(memory: MemoryService, limits: { bodyBytes: number }): Route[] {
  const body = (ctx: RequestContext) => readJsonBody(ctx.req, limits.bodyBytes);
  const store = memory.store;
  return [
    { method: "POST", path: "/v1/memory", handle: async (ctx) => sendJson(ctx.res, 201, await memory.create(CreateMemory.parse(await body(ctx)))) },
    {
      method: "GET",
      path: "/v1/memory",
      async handle(ctx) {
        const q = ListQuery.parse(Object.fromEntries(ctx.url.searchParams));
        sendJson(ctx.res, 200, { object: "list", data: store.list(q) });
      },
    },
    { method: "POST", path: "/v1/memory/search", handle: async (ctx) => sendJson(ctx.res, 200, { object: "list", data: await memory.search(SearchMemory.parse(await body(ctx))) }) },
    { method: "GET", path: "/v1/memory/verify", handle: async (ctx) => sendJson(ctx.res, 200, store.verify()) },
    { method: "POST", path: "/v1/memory/receipts/verify", handle: async (ctx) => sendJson(ctx.res, 200, store.checkReceipt(Receipt.parse(await body(ctx)))) },
    { method: "GET", path: "/v1/memory/{id}", handle: async (ctx) => sendJson(ctx.res, 200, store.get(ctx.params.id!)) },
    { method: "PATCH", path: "/v1/memory/{id}", handle: async (ctx) => sendJson(ctx.res, 200, await memory.update(ctx.params.id!, UpdateMemory.parse(await body(ctx)))) },
    {
      method: "DELETE",
      path: "/v1/memory/{id}",
      async handle(ctx) {
        const who = WriteContext.parse(Object.fromEntries(ctx.url.searchParams));
        sendJson(ctx.res, 200, store.forget(ctx.params.id!, who.actor, who.reason));
      },
    },
    { method: "GET", path: "/v1/memory/{id}/history", handle: async (ctx) => sendJson(ctx.res, 200, { object: "list", data: store.history(ctx.params.id!) }) },
    {
      method: "POST",
      path: "/v1/memory/{id}/rollback",
      async handle(ctx) {
        const r = Rollback.parse(await body(ctx));
        sendJson(ctx.res, 200, store.rollback(ctx.params.id!, r.version, r.actor, r.reason));
      },
    },
  ];
}
