/** The one schema of edged's configuration: file, environment and flags are all checked against it. */
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ToolPermissionsConfig } from "../core/toolPermissions.js";
import { ProviderConfig } from "../cloud/types.js";
import { RouterConfig } from "../router/schemas.js";
import { AlertRule, DEFAULT_RULES } from "../alerts/rules.js";
import { Duration } from "./duration.js";

const defaultDataDir = () => join(process.env.XDG_DATA_HOME ?? join(homedir(), ".local", "share"), "edged");

/** A size as systemd reads it: bytes, or K, M, G, T; or "infinity". */
const SystemdSize = z.string().regex(/^(\d+[KMGT]?|infinity)$/, 'must be a size such as "512M" or "4G"');

export const Config = z
  .object({
    host: z.string().min(1).default("127.0.0.1"),
    port: z.coerce.number().int().min(0).max(65535).default(11435),
    dataDir: z.string().min(1).default(defaultDataDir),
    models: z
      .object({
        /** Path of the model manifest; the bundled one by default. */
        manifest: z.string().min(1).optional(),
        /** Chat model to serve; the manifest's default when absent. */
        chat: z.string().min(1).optional(),
        /** Embedding model to serve; the manifest's default when absent, `false` for none. */
        embedding: z.union([z.string().min(1), z.literal(false)]).optional(),
        /** How long a model loaded on demand stays after its last request ("5m", "30s", seconds; negative: forever). */
        keepAlive: Duration.default("5m"),
        /** Models loaded at once, the pinned defaults included. */
        maxLoaded: z.coerce.number().int().min(1).default(3),
        /** Memory the loaded models may take together; 90 % of what the probe found free when absent. */
        memoryBudgetMiB: z.coerce.number().int().positive().optional(),
        /** Other tools' model stores, read where they lie (never copied); each can be turned off. */
        discover: z
          .object({ ollama: z.boolean().default(true), huggingface: z.boolean().default(true), lmstudio: z.boolean().default(true) })
          .strict()
          .prefault({}),
        /** More folders whose *.gguf files are served. */
        dirs: z.array(z.string().min(1)).default([]),
        /** The Hugging Face-compatible hub `edged pull` downloads from (token from HF_TOKEN). */
        hubUrl: z.string().url().default("https://huggingface.co"),
      })
      .strict()
      .prefault({}),
    llama: z
      .object({
        /** llama.cpp threads; measured per model and machine on first load when absent (and remembered). */
        threads: z.coerce.number().int().min(1).max(256).optional(),
        /** Parallel sequences of the model's context: requests decoded together in one batch. */
        slots: z.coerce.number().int().min(1).max(64).default(4),
        /** Tokens of context per slot; the model's trained length when absent. */
        contextSize: z.coerce.number().int().min(64).optional(),
        batchSize: z.coerce.number().int().min(8).optional(),
        /** Flash attention where the model supports it (llama-server's default too): faster decode, a smaller KV cache. */
        flashAttention: z.boolean().default(true),
        /** Reuse the evaluated state of a shared prompt prefix (a system prompt, earlier turns). */
        prefixReuse: z.boolean().default(true),
        /** Compiled grammars kept, least recently used out first: this many response schemas, and as many tool sets. */
        grammarCache: z.coerce.number().int().min(1).max(10_000).default(64),
      })
      .strict()
      .prefault({}),
    onnx: z.object({ threads: z.coerce.number().int().min(1).max(256).default(1) }).strict().prefault({}),
    queue: z
      .object({
        /** Requests allowed to wait for a slot; past this they are refused with 429. */
        maxWaiting: z.coerce.number().int().min(0).default(32),
        /** Slots of each lane kept for interactive requests: background and batch work never takes them. */
        reservedForInteractive: z.coerce.number().int().min(0).default(1),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        bodyBytes: z.coerce.number().int().min(1024).default(1024 * 1024),
        defaultMaxTokens: z.coerce.number().int().min(1).default(256),
        /** Applied when a request names no deadline; 0 means none. */
        defaultDeadlineMs: z.coerce.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
    security: z
      .object({
        /** Bearer keys; required whenever the bind address is not loopback. */
        apiKeys: z.array(z.string().min(8)).default([]),
        /** Host header values accepted besides the loopback names and the bind address (DNS-rebinding defence). */
        allowedHosts: z.array(z.string().min(1)).default([]),
        /** Browser origins allowed to call the API (CORS); none by default. */
        allowedOrigins: z.array(z.string().url()).default([]),
        /** Which tools each caller may offer a model; any, when absent. */
        tools: ToolPermissionsConfig.optional(),
      })
      .strict()
      .prefault({}),
    memory: z
      .object({
        /** Versions kept per memory item. */
        maxVersions: z.coerce.number().int().min(1).max(10_000).default(100),
        /** How often expired memories are swept (forgotten). */
        sweepInterval: Duration.default("60s"),
        /** "full": every write survives a power cut; "normal": a crash loses nothing, a power cut the last writes. */
        durability: z.enum(["full", "normal"]).default("full"),
      })
      .strict()
      .prefault({}),
    cloud: z
      .object({
        /** Cloud models the router may escalate to: OpenAI-compatible or Anthropic; none by default. */
        providers: z.array(ProviderConfig).default([]),
      })
      .strict()
      .prefault({}),
    router: RouterConfig.prefault({}),
    offline: z
      .object({
        /** How long a queued request may wait for the cloud before it is dropped (with its reason recorded). */
        ttl: Duration.default("24h"),
        /** Sends of a queued request before it moves to the dead letters. */
        maxAttempts: z.coerce.number().int().min(1).max(1000).default(8),
        /** Backoff between sends of one job: full jitter, doubling from base to max. */
        retryBaseMs: z.coerce.number().int().min(1).default(1000),
        retryMaxMs: z.coerce.number().int().min(1).default(300_000),
        /** How often an unreachable cloud is probed. */
        probeInterval: Duration.default("5s"),
        /** Jobs replayed at once. */
        concurrency: z.coerce.number().int().min(1).max(64).default(8),
        /** Finished jobs (done, dead, expired) are kept this long after they finished, then purged. */
        retention: Duration.default("168h"),
      })
      .strict()
      .prefault({}),
    responses: z
      .object({
        /** Stored Responses API answers (`store: true`) are kept this long, as OpenAI keeps them, then purged. */
        retention: Duration.default("720h"),
      })
      .strict()
      .prefault({}),
    service: z
      .object({
        /** systemd's MemoryHigh and MemoryMax for `edged service install` (e.g. "3G"); else derived from models.memoryBudgetMiB. */
        memoryHigh: SystemdSize.optional(),
        memoryMax: SystemdSize.optional(),
      })
      .strict()
      .prefault({}),
    eval: z
      .object({
        /**
         * A suite a model must pass before a reload swaps it in as a route's local model: it is run on the new
         * model and on the one it replaces, and a metric lower by more than `threshold` refuses the reload.
         */
        gate: z.object({ suite: z.string().min(1), threshold: z.coerce.number().min(0).max(1).default(0.05) }).strict().optional(),
        /**
         * Online evaluation: this share of the requests answered on the device is answered again by a reference
         * in the background, at batch priority, and the two answers' agreement is recorded per model and route.
         */
        online: z
          .object({
            /** 0 (off) to 1. Never local_only requests, nor what the route's redaction policy would change or keep. */
            sampleRate: z.coerce.number().min(0).max(1).default(0),
            /** A cloud provider's id (of cloud.providers), or a local chat model (a bigger one, say). */
            reference: z.string().min(1).optional(),
            /** The first `window` samples of a model on a route are its baseline; the latest `window` are compared with it. */
            window: z.coerce.number().int().min(1).max(10_000).default(50),
            /** References waiting or running at once; a sample beyond that is dropped (counted), never queued without end. */
            maxPending: z.coerce.number().int().min(1).max(1000).default(4),
            /** How long samples are kept in eval.db. */
            retention: Duration.default("720h"),
          })
          .strict()
          .refine((o) => o.sampleRate === 0 || o.reference !== undefined, { message: "eval.online.reference names the reference that answers sampled requests (a cloud provider or a local model)", path: ["reference"] })
          .prefault({}),
      })
      .strict()
      .prefault({}),
    alerts: z
      .object({
        /** How often the rules are evaluated. */
        interval: Duration.default("15s"),
        /** Replaces the default rules (see src/alerts/rules.ts) as a whole. */
        rules: z.array(AlertRule).default(DEFAULT_RULES),
        /** Where every alert change is POSTed as JSON; kept and retried like offline jobs (offline.ttl, maxAttempts, retry*). */
        webhooks: z.array(z.object({ url: z.url({ protocol: /^https?$/ }), headers: z.record(z.string(), z.string()).default({}) }).strict()).default([]),
      })
      .strict()
      .prefault({}),
    console: z
      .object({
        /** The web console at / (static files from the package, under the same guard as the API). */
        enabled: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    housekeeping: z
      .object({
        /** How often finished offline jobs, stored responses and spent budget hours past their retention are purged. */
        interval: Duration.default("10m"),
      })
      .strict()
      .prefault({}),
    shutdownGraceMs: z.coerce.number().int().min(0).max(60_000).default(1200),
  })
  .strict()
  .superRefine((config, ctx) => {
    const ids = config.cloud.providers.map((p) => p.id);
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) ctx.addIssue({ code: "custom", path: ["cloud", "providers", i, "id"], message: `duplicate provider id "${id}"` });
    });
    config.router.routes.forEach((route, i) =>
      route.cloud.forEach((id, j) => {
        if (!ids.includes(id)) ctx.addIssue({ code: "custom", path: ["router", "routes", i, "cloud", j], message: `"${id}" is not a provider in cloud.providers` });
      }),
    );
  });

export type Config = z.infer<typeof Config>;
export type ConfigInput = z.input<typeof Config>;
