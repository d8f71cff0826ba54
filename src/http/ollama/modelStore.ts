/**
 * Ollama's endpoints for managing models, over edged's user store: POST /api/pull (from a Hugging Face-compatible
 * hub, NDJSON progress in Ollama's shape), HEAD and POST /api/blobs/{digest} (uploads, checked against their
 * digest), POST /api/create (from uploaded files or an existing model, with template, system and parameters),
 * POST /api/copy and DELETE /api/delete.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Llama } from "node-llama-cpp";
import type { Config } from "../../config/schema.js";
import type { Inventory } from "../../hardware/inventory.js";
import { addModel, AddModelError, removeModel, type AddDeps } from "../../models/addModel.js";
import type { ModelCatalog } from "../../models/catalog.js";
import type { ModelDefaults } from "../../models/entry.js";
import { HubClient, HubError } from "../../models/hub/hubClient.js";
import { parsePullName, pullModel, type PullEvent } from "../../models/hub/pull.js";
import { normalizeId } from "../../models/modelNames.js";
import type { ModelRegistry } from "../../models/modelRegistry.js";
import { fitCheck } from "../../scheduler/fitCheck.js";
import { readOllamaBody } from "./body.js";
import { ApiError } from "../errors.js";
import { NdjsonStream } from "../eventStream.js";
import { sendJson } from "../respond.js";
import type { RequestContext, Route } from "../routes.js";
import { BlobDigest, CopyRequest, CreateRequest, DeleteRequest, modelNameOf, PullRequest } from "./schemas.js";

export interface OllamaStoreDeps {
  catalog: ModelCatalog;
  models: ModelRegistry;
  config: Config;
  runtime: () => Promise<{ llama: Llama; inventory: Inventory }>;
  log: (line: string) => void;
}

const bad = (message: string, status = 400) => new ApiError(status, message, "invalid_request_error", "invalid_value");

/** The id a client's name registers under (`:latest` when it has no tag). */
function idOf(name: string): string {
  try {
    return normalizeId(name);
  } catch {
    throw bad(`"${name}" is not a model name (lower-case name[:tag])`);
  }
}

/** Store failures a client caused, in Ollama's words; anything else stays as it is. */
function asApiError(error: unknown): unknown {
  if (error instanceof AddModelError) return bad(error.message, /no model named/.test(error.message) ? 404 : 400);
  if (error instanceof HubError) return bad(error.message, error.status === 401 || error.status === 403 ? error.status : error.status === 404 ? 404 : 502);
  return error;
}

/** Runs a store operation answering as Ollama does: NDJSON statuses ending in "success", or one object. */
async function progress(ctx: RequestContext, streamed: boolean, work: (status: (s: object) => void) => Promise<void>): Promise<void> {
  const stream = streamed ? new NdjsonStream(ctx.res) : undefined;
  try {
    await work((s) => {
      if (!stream) return;
      if (!stream.opened) stream.open();
      stream.send(s);
    });
  } catch (error) {
    const mapped = asApiError(error);
    if (!stream?.opened) throw mapped;
    stream.fail(mapped instanceof ApiError ? mapped : new ApiError(500, (error as Error).message, "server_error"));
    return;
  }
  if (stream) {
    if (!stream.opened) stream.open();
    stream.send({ status: "success" });
    stream.end();
  } else sendJson(ctx.res, 200, { status: "success" });
}

/** Ollama's parameters as a model's defaults. */
function defaultsOf(body: CreateRequest): ModelDefaults {
  const p = body.parameters ?? {};
  return {
    ...(body.system !== undefined && { system: body.system }),
    ...(p.stop !== undefined && { stop: typeof p.stop === "string" ? [p.stop] : p.stop }),
    ...(p.temperature !== undefined && { temperature: p.temperature }),
    ...(p.top_p !== undefined && { topP: p.top_p }),
    ...(p.top_k !== undefined && { topK: p.top_k }),
    ...(p.num_ctx !== undefined && { contextSize: p.num_ctx }),
  };
}

export function ollamaStoreRoutes(deps: OllamaStoreDeps): Route[] {
  const user = () => deps.catalog.user!;
  const addDeps = async (): Promise<AddDeps> => {
    const { llama, inventory } = await deps.runtime();
    return { catalog: deps.catalog, user: user(), llama, place: fitCheck(deps.config, llama, inventory) };
  };
  const blobOf = (digest: string) => user().blobPath(digest.slice("sha256:".length));
  const digestParam = (ctx: RequestContext) => {
    const parsed = BlobDigest.safeParse(ctx.params.digest);
    if (!parsed.success) throw bad(`invalid digest ${ctx.params.digest}: ${parsed.error.issues[0]!.message}`);
    return parsed.data.replace("-", ":");
  };
  return [
    {
      method: "HEAD",
      path: "/api/blobs/{digest}",
      errorShape: "ollama",
      async handle(ctx) {
        const exists = await stat(blobOf(digestParam(ctx))).then(() => true, () => false);
        ctx.res.writeHead(exists ? 200 : 404).end();
      },
    },
    {
      method: "POST",
      path: "/api/blobs/{digest}",
      errorShape: "ollama",
      async handle(ctx) {
        const digest = digestParam(ctx);
        const temp = join(user().partialDir, `upload-${digest.slice(7, 23)}-${process.pid}-${Date.now()}`);
        const hash = createHash("sha256");
        try {
          await pipeline(
            ctx.req,
            async function* (chunks: AsyncIterable<Buffer>) {
              for await (const chunk of chunks) {
                hash.update(chunk);
                yield chunk;
              }
            },
            createWriteStream(temp),
          );
          const got = `sha256:${hash.digest("hex")}`;
          if (got !== digest) throw bad(`digest mismatch: the upload is ${got}, the URL says ${digest}`);
          await rename(temp, blobOf(digest));
          await user().hashes.remember(blobOf(digest), digest.slice(7));
        } finally {
          await rm(temp, { force: true });
        }
        ctx.res.writeHead(201).end();
      },
    },
    {
      method: "POST",
      path: "/api/create",
      errorShape: "ollama",
      async handle(ctx) {
        const body = CreateRequest.parse(await readOllamaBody(ctx.req, deps.config.limits.bodyBytes));
        const id = idOf(modelNameOf(body));
        await progress(ctx, body.stream, async (status) => {
          let file: string;
          let owned = true;
          let inherited: ModelDefaults = {};
          if (body.files) {
            const ggufs = Object.entries(body.files).filter(([name]) => name.toLowerCase().endsWith(".gguf"));
            if (ggufs.length !== 1) throw bad(`files must name exactly one .gguf file (got ${ggufs.length})`);
            const [, digest] = ggufs[0]!;
            file = blobOf(digest.replace("-", ":"));
            if (!(await stat(file).then(() => true, () => false))) throw bad(`blob ${digest} was not uploaded: POST it to /api/blobs/${digest} first`);
            status({ status: `using existing layer ${digest.replace("-", ":")}` });
          } else {
            const from = deps.catalog.find(body.from!);
            if (!from || from.engine !== "llama") throw bad(`model '${body.from}' not found`, 404);
            file = from.path;
            owned = from.source.owned;
            inherited = from.defaults;
          }
          status({ status: "parsing GGUF" });
          const template = body.template?.trim() ? { kind: "ollama" as const, text: body.template, from: "the create request" } : undefined;
          await addModel(
            { file, id, mode: "in-place", template, defaults: { ...inherited, ...defaultsOf(body) }, source: { kind: "user", detail: body.from ? `created from ${body.from}` : `created from ${file}`, owned } },
            await addDeps(),
          );
          status({ status: "writing manifest" });
          await deps.catalog.refresh();
        });
      },
    },
    {
      method: "POST",
      path: "/api/copy",
      errorShape: "ollama",
      async handle(ctx) {
        const body = CopyRequest.parse(await readOllamaBody(ctx.req, deps.config.limits.bodyBytes));
        const source = deps.catalog.find(body.source);
        if (!source) throw bad(`model '${body.source}' not found`, 404);
        const id = idOf(body.destination);
        if (deps.catalog.has(id)) throw bad(`a model named ${id} already exists`);
        user().insert({ ...source, id, source: { kind: "user", detail: `copy of ${source.id}`, owned: source.source.owned } });
        await deps.catalog.refresh();
        ctx.res.writeHead(200).end();
      },
    },
    {
      method: "DELETE",
      path: "/api/delete",
      errorShape: "ollama",
      async handle(ctx) {
        const body = DeleteRequest.parse(await readOllamaBody(ctx.req, deps.config.limits.bodyBytes));
        const name = modelNameOf(body);
        const entry = deps.catalog.find(name);
        if (!entry) throw bad(`model '${name}' not found`, 404);
        if (deps.models.isPinned(entry.id)) throw bad(`${entry.id} is a model this daemon keeps loaded (its default); serve another before deleting it`);
        try {
          await removeModel(entry.id, { catalog: deps.catalog, user: user() });
        } catch (error) {
          throw asApiError(error);
        }
        await deps.models.unloadIdle(entry.id, "deleted");
        await deps.catalog.refresh();
        deps.log(`deleted ${entry.id}`);
        ctx.res.writeHead(200).end();
      },
    },
    {
      method: "POST",
      path: "/api/pull",
      errorShape: "ollama",
      async handle(ctx) {
        const body = PullRequest.parse(await readOllamaBody(ctx.req, deps.config.limits.bodyBytes));
        const name = modelNameOf(body);
        const spec = (() => {
          try {
            return parsePullName(name);
          } catch (error) {
            throw bad(`${(error as Error).message}; edged pulls GGUF repositories from ${deps.config.models.hubUrl}, such as hf.co/ORG/REPO:Q4_K_M`);
          }
        })();
        const hub = new HubClient({ baseUrl: deps.config.models.hubUrl, token: process.env.HF_TOKEN || undefined });
        try {
          await progress(ctx, body.stream, async (status) => {
            const onEvent = (e: PullEvent) => {
              if (e.phase === "manifest") status({ status: "pulling manifest" });
              if (e.phase === "download") status({ status: `pulling ${(e.sha256 ?? e.file).slice(0, 12)}`, digest: e.sha256 ? `sha256:${e.sha256}` : e.file, total: e.total, completed: e.done });
              if (e.phase === "verify") status({ status: "verifying sha256 digest" });
              if (e.phase === "register") status({ status: "writing manifest" });
            };
            const { entry } = await pullModel(spec, { ...(await addDeps()), hub, onEvent });
            await deps.catalog.refresh();
            deps.log(`pulled ${entry.id} into ${entry.path}`);
          });
        } finally {
          await hub.close();
        }
      },
    },
  ];
}
