/**
 * The router and its side paths, composed for the daemon: cloud providers, the token budget (usage.db), the
 * connectivity watcher, the offline queue (queue.db) and its replay worker, and their metrics.
 */
import { RecentRoutes } from "./telemetry/recentRoutes.js";
import { join } from "node:path";
import { durationMs } from "./config/duration.js";
import type { Config } from "./config/schema.js";
import type { CircuitBreaker } from "./cloud/circuitBreaker.js";
import { createProvider, type ConfiguredProvider } from "./cloud/providers.js";
import { openDatabase } from "./db/open.js";
import { chatCompletion } from "./http/openai/chatShape.js";
import type { ChatDeferral, RoutingDeps } from "./core/routingDeps.js";
import { jobView } from "./http/queue/jobView.js";
import type { ModelRegistry } from "./models/modelRegistry.js";
import { ConnectivityWatcher } from "./offline/connectivity.js";
import { FinishedStatus } from "./offline/job.js";
import { JobStore } from "./offline/jobStore.js";
import type { Chore } from "./housekeeping.js";
import { OFFLINE_MIGRATIONS } from "./offline/migrations.js";
import { ReplayWorker } from "./offline/replayWorker.js";
import { BUDGET_MIGRATIONS } from "./router/budgetMigrations.js";
import type { ChainObserver } from "./router/cloudChain.js";
import { DifficultyEstimator } from "./router/difficulty.js";
import { chargeQueuedChat, classifyQueuedFailure, queuedChatSender } from "./router/queuedChat.js";
import { Router } from "./router/router.js";
import { TokenBudget } from "./router/tokenBudget.js";
import type { Registry } from "./telemetry/metrics.js";
import { RouterMetrics } from "./telemetry/routerMetrics.js";

export interface RouterSide {
  routing: RoutingDeps & { queue: ChatDeferral; recent: RecentRoutes; budget: TokenBudget };
  jobs: JobStore;
  /** Finished jobs past offline.retention, and budget hours no window counts any more. */
  chores: Chore[];
  stop(): Promise<void>;
}

/** Reachable when any provider answers its probe. */
async function anyAnswers(clouds: Iterable<ConfiguredProvider>, signal: AbortSignal): Promise<boolean> {
  for (const c of clouds) {
    try {
      await c.provider.probe(signal);
      return true;
    } catch {
      // the next provider may answer
    }
  }
  return false;
}

/** How long no call could get through: 0 while any breaker admits; else until the first open one half-opens. */
function holdWhileBreakersRefuse(breakers: CircuitBreaker[]): number {
  if (breakers.some((b) => b.admitting)) return 0;
  const open = breakers.map((b) => b.retryInMs).filter((ms) => ms > 0);
  return open.length ? Math.min(...open) : HALF_OPEN_POLL_MS;
}

/** Half-open breakers busy with their trial calls: look again this soon (a replayed trial also wakes the worker when it ends). */
const HALF_OPEN_POLL_MS = 100;

export function startRouterSide(config: Config, deps: { models: ModelRegistry; registry: Registry; embedding?: string; log: (line: string) => void; now?: () => number }): RouterSide {
  const { models, log } = deps;
  const clouds = new Map(config.cloud.providers.map((p) => [p.id, createProvider(p, { now: deps.now })]));
  const usageDb = openDatabase(join(config.dataDir, "usage.db"), BUDGET_MIGRATIONS);
  const budget = new TokenBudget(usageDb, { perHour: config.router.budgets.perKeyHourTokens, perDay: config.router.budgets.perKeyDayTokens });
  const connectivity = new ConnectivityWatcher({ probe: (signal) => anyAnswers(clouds.values(), signal), probeIntervalMs: durationMs(config.offline.probeInterval) });
  connectivity.on("change", (online) => log(`cloud ${online ? "reachable again" : "unreachable"}`));
  const { embedding } = deps;
  const difficulty = new DifficultyEstimator({
    examples: config.router.examples,
    embed: embedding ? (texts) => models.useEmbedding(embedding, undefined, (b) => b.embedder.embed(texts)) : undefined,
  });
  const router = new Router({ config: config.router, clouds, isLocal: (name) => models.isChat(name), defaultLocal: () => models.catalog.defaults.chat, difficulty, budget, connectivity });

  const queueDb = openDatabase(join(config.dataDir, "queue.db"), OFFLINE_MIGRATIONS);
  const jobs = new JobStore(queueDb);
  const metrics = new RouterMetrics(deps.registry, {
    breakers: () => [...clouds].map(([id, c]) => [id, c.breaker.state]),
    online: () => connectivity.online,
    queueJobs: () => jobs.counts(),
    budgetRows: () => budget.rows,
  });
  const observer: ChainObserver = {
    onCall: (target, outcome) => metrics.cloudCalls.inc({ provider: target, outcome }),
    onReachable: (reachable) => (reachable ? connectivity.reportSuccess() : connectivity.reportFailure()),
  };
  const worker = new ReplayWorker({
    store: jobs,
    // the result is stored as the chat.completion the client fetches from GET /v1/queue/{id}
    send: queuedChatSender(router, observer, (a) => chatCompletion(a.id, a.model, Math.floor(Date.now() / 1000), { text: a.text, toolCalls: a.toolCalls, finishReason: a.finishReason, ...a.usage })),
    onDone: chargeQueuedChat(budget, (tokens) => metrics.cloudTokens.inc({ via: "queue" }, tokens)),
    classify: classifyQueuedFailure,
    connectivity,
    concurrency: config.offline.concurrency,
    holdMs: () => holdWhileBreakersRefuse([...clouds.values()].map((c) => c.breaker)),
    backoff: { baseMs: config.offline.retryBaseMs, maxMs: config.offline.retryMaxMs },
    onStorage: (full, error) => log(full ? `offline queue: ${(error as Error).message}; writes are retried every second` : "offline queue: writes succeed again"),
  });
  if (clouds.size > 0) worker.start();
  const ttlMs = durationMs(config.offline.ttl);
  const queue: ChatDeferral = {
    defer(chat, idempotencyKey) {
      const enqueued = jobs.enqueue({ idempotencyKey, request: chat, target: chat.route, ttlMs, maxAttempts: config.offline.maxAttempts });
      if (enqueued.created) worker.kick();
      return enqueued;
    },
    view: jobView,
  };
  const retentionMs = durationMs(config.offline.retention);
  return {
    routing: { router, metrics, budget, queue, connectivity, observer, log, recent: new RecentRoutes() },
    jobs,
    chores: [
      { what: "offline_jobs", run: () => FinishedStatus.options.reduce((n, status) => n + jobs.purge({ status, olderThanMs: retentionMs }), 0) },
      { what: "budget_hours", run: () => budget.prune() },
    ],
    async stop() {
      await worker.stop();
      connectivity.stop();
      await Promise.all([...clouds.values()].map((c) => c.close()));
      queueDb.close();
      usageDb.close();
    },
  };
}
