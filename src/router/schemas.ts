/**
 * The routing policy (one config section) and what a request may say about its own routing. Defaults: answer on
 * the device when it can within 50 ms, else escalate to the cloud targets of the request's route.
 */
import { z } from "zod";
import { RedactionPolicy } from "./redaction.js";

export const CascadeConfig = z
  .object({
    /** Tokens generated locally before deciding. */
    tokens: z.coerce.number().int().min(1).max(64).default(8),
    /** Escalate when the mean log-probability of those tokens is below this (natural log; 0 = certain). */
    minMeanLogprob: z.coerce.number().max(0).default(-2.5),
  })
  .strict();
export type CascadeConfig = z.infer<typeof CascadeConfig>;

export const RouteConfig = z
  .object({
    /** The requested model name this route applies to: a local model id, an alias of your own, or "*" for any. */
    model: z.string().min(1),
    /** The local model that answers on the device; the requested model when it is local, else the default chat model. */
    local: z.string().min(1).optional(),
    /** Cloud providers (ids of `cloud.providers`) to escalate to, in fallback order. */
    cloud: z.array(z.string().min(1)).default([]),
    /** When every cloud target failed, answer on the device (marked `x-edged-fallback: local`). */
    fallbackToLocal: z.boolean().default(true),
    /** What leaves the device: as is, with e-mails, phones, cards, IBANs and secrets redacted, or nothing sensitive at all. */
    redaction: RedactionPolicy.default("ALLOW_WITH_REDACTION"),
    /** Answer locally first and escalate when the local model is unsure. */
    cascade: CascadeConfig.optional(),
    /** Prompts whose difficulty score reaches this go to the cloud whatever the latency (1 = never for difficulty). */
    difficultyThreshold: z.coerce.number().min(0).max(1).default(0.75),
    /** Over the cloud token budget: answer on the device, or refuse with 429. */
    overBudget: z.enum(["local", "reject"]).default("local"),
  })
  .strict();
export type RouteConfig = z.infer<typeof RouteConfig>;

export const RouterConfig = z
  .object({
    /** Latency budget of a request that names none. */
    defaultBudgetMs: z.coerce.number().int().positive().default(50),
    /** Routes by requested model; with cloud providers and no "*" route, every model escalates to all of them in order. */
    routes: z.array(RouteConfig).default([]),
    /** Labelled example requests: a prompt near the "complex" ones scores as difficult (needs the embedding model). */
    examples: z.array(z.object({ text: z.string().min(1), label: z.enum(["simple", "complex"]) }).strict()).default([]),
    /** Cloud tokens each API key may use (prompt and completion; local models never count). */
    budgets: z
      .object({
        perKeyHourTokens: z.coerce.number().int().positive().optional(),
        perKeyDayTokens: z.coerce.number().int().positive().optional(),
      })
      .strict()
      .prefault({}),
    /**
     * While other requests decode on the device, send a request the device would answer in more than
     * `defaultBudgetMs` to a measured cloud target that can meet its budget, keeping the device for tight budgets.
     * Off by default: edge first, the cloud only when the device cannot make the budget.
     */
    offloadWhenBusy: z.boolean().default(false),
    /** Predicted local latency is multiplied by this before it is compared with a budget. */
    safetyFactor: z.coerce.number().min(1).max(10).default(1.25),
    /** Rates assumed until a model has been measured. */
    priors: z
      .object({
        prefillTokensPerSecond: z.coerce.number().positive().default(2000),
        decodeTokensPerSecond: z.coerce.number().positive().default(300),
        /** Fixed cost of a local request: tokenizing, slot hand-over, HTTP. */
        localOverheadMs: z.coerce.number().min(0).default(2),
        cloudFirstByteMs: z.coerce.number().min(0).default(400),
        cloudTokensPerSecond: z.coerce.number().positive().default(80),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type RouterConfig = z.infer<typeof RouterConfig>;

export const Privacy = z.enum(["local_only", "default"]);
export type Privacy = z.infer<typeof Privacy>;

/** The `edged` object a chat request may carry (the headers x-edged-latency-budget-ms, -privacy, -allow-defer win). */
export const RoutingOptions = z
  .object({
    latency_budget_ms: z.number().int().positive().optional(),
    /** "local_only": the request never leaves the device, whatever else happens. */
    privacy: Privacy.optional(),
    /** Cloud-bound work may wait in the offline queue (202 and a job id) while the cloud is unreachable. */
    allow_defer: z.boolean().optional(),
  })
  .strict();
export type RoutingOptions = z.infer<typeof RoutingOptions>;
