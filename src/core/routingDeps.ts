/** What the routed chat endpoint needs besides generation: the router and its side paths. */
import type { RecentRoutes } from "../telemetry/recentRoutes.js";
import type { ConnectivityWatcher } from "../offline/connectivity.js";
import type { Job } from "../offline/job.js";
import type { ChainObserver } from "../router/cloudChain.js";
import type { QueuedChat } from "../router/queuedChat.js";
import type { Router } from "../router/router.js";
import type { TokenBudget } from "../router/tokenBudget.js";
import type { Served } from "../eval/online.js";
import type { RouterMetrics } from "../telemetry/routerMetrics.js";

export interface ChatDeferral {
  /** Writes the request to the offline queue (a repeated idempotency key returns its first job). */
  defer(chat: QueuedChat, idempotencyKey?: string): { job: Job; created: boolean };
  /** A job as the API shows it. */
  view(job: Job): unknown;
}

export interface RoutingDeps {
  router: Router;
  metrics: RouterMetrics;
  budget?: TokenBudget;
  queue?: ChatDeferral;
  connectivity?: ConnectivityWatcher;
  /** Counts cloud calls and tells the connectivity watcher what they saw. */
  observer: ChainObserver;
  /** The request log: one JSON line per routed request. */
  log: (line: string) => void;
  /** The latest of those records, for GET /v1/requests. */
  recent?: RecentRoutes;
  /** Online evaluation, when sampled: told of each answer the device gave whole. */
  online?: { offer(served: Served): void };
}
