/** Online evaluation as a configuration describes it: its reference (a cloud provider or a local model) and metrics. */
import { ConfigError } from "../config/load.js";
import type { Config } from "../config/schema.js";
import type { RoutingDeps } from "../core/routingDeps.js";
import type { ModelRegistry } from "../models/modelRegistry.js";
import { Counter, type Registry } from "../telemetry/metrics.js";
import { EvalClient } from "./client.js";
import { cloudReference, localReference, OnlineEvaluator, type Reference } from "./online.js";
import type { OnlineSamples } from "./onlineSamples.js";

export interface OnlineDeps {
  /** The daemon's own address, for a local reference (known once it listens). */
  url: () => string;
  apiKey?: string;
  models: ModelRegistry;
  routing: RoutingDeps;
  registry: Registry;
  samples: OnlineSamples;
  embedding?: string;
  /** Requests running or waiting on the device's lanes. */
  deviceLoad(): number;
  log(line: string): void;
}

export function onlineEvaluation(config: Config, deps: OnlineDeps): OnlineEvaluator {
  const online = config.eval.online;
  const { embedding, routing } = deps;
  if (!embedding) throw new ConfigError("eval.online compares text answers by their embeddings: it needs an embedding model (models.embedding is off)");
  const name = online.reference!;
  let reference: Reference;
  if (routing.router.providers.has(name)) {
    reference = cloudReference(name, routing.router.providers, routing.observer, (tokens) => routing.metrics.cloudTokens.inc({ via: "eval" }, tokens));
  } else if (deps.models.isChat(name)) {
    let client: EvalClient | undefined;
    reference = localReference(deps.models.entryFor(name).id, () => (client ??= new EvalClient(deps.url(), deps.apiKey, "batch", { "x-edged-privacy": "local_only" })));
  } else {
    throw new ConfigError(`eval.online.reference: ${name} is neither a cloud provider (cloud.providers) nor a local chat model`);
  }
  const evaluator = new OnlineEvaluator({
    sampleRate: online.sampleRate,
    window: online.window,
    maxPending: online.maxPending,
    reference,
    samples: deps.samples,
    embed: (texts) => deps.models.useEmbedding(embedding, undefined, (b) => b.embedder.embed(texts)),
    outcomes: deps.registry.add(new Counter("edged_eval_online_samples_total", "Online evaluation's sampled requests by outcome: compared, failed, dropped_busy, skipped_<reason>; gave_way counts references on the device cancelled for a request that arrived")),
    log: deps.log,
    deviceLoad: deps.deviceLoad,
  });
  evaluator.register(deps.registry);
  return evaluator;
}
