/** Metrics of the router, the cloud providers and the offline queue, in the daemon's registry. */
import { Counter, Gauge, Histogram, type Labels, type Registry } from "./metrics.js";

const LATENCY_BUCKETS = [0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Prometheus wants numbers: a breaker's state as 0 closed, 1 half-open, 2 open. */
const BREAKER_LEVEL = { closed: 0, "half-open": 1, open: 2 } as const;

export interface RouterMetricsSources {
  breakers: () => [provider: string, state: keyof typeof BREAKER_LEVEL][];
  online: () => boolean;
  queueJobs: () => Record<string, number>;
  budgetRows: () => number;
}

export class RouterMetrics {
  readonly decisions: Counter;
  readonly latency: Histogram;
  readonly predicted: Histogram;
  readonly budget: Counter;
  readonly redactions: Counter;
  readonly cloudCalls: Counter;
  readonly cloudTokens: Counter;
  readonly toolCalls: Counter;

  constructor(registry: Registry, sources: RouterMetricsSources) {
    this.decisions = registry.add(new Counter("edged_route_decisions_total", "Routing decisions by route (local, cloud, queue, reject) and reason"));
    this.latency = registry.add(new Histogram("edged_route_latency_seconds", "Actual time to the whole answer, by the route that answered", LATENCY_BUCKETS));
    this.predicted = registry.add(new Histogram("edged_route_predicted_latency_seconds", "Latency the router predicted for the route it chose", LATENCY_BUCKETS));
    this.budget = registry.add(new Counter("edged_route_budget_total", "Answers by route and whether they met their latency budget (met=true|false)"));
    this.redactions = registry.add(new Counter("edged_redactions_total", "Sensitive spans redacted before leaving the device, by kind"));
    this.cloudCalls = registry.add(new Counter("edged_cloud_calls_total", "Calls to cloud providers by provider and outcome (ok or the error kind)"));
    this.cloudTokens = registry.add(new Counter("edged_cloud_tokens_total", "Prompt and completion tokens of cloud answers, answered at once, from the offline queue, or as online evaluation's reference (via=direct|queue|eval)"));
    this.toolCalls = registry.add(new Counter("edged_tool_calls_total", "Tool calls returned to clients, by tool and the route that answered"));
    registry.add(new Gauge("edged_cloud_breaker_state", "Circuit breaker per provider: 0 closed, 1 half-open, 2 open", () => sources.breakers().map(([provider, state]) => [{ provider }, BREAKER_LEVEL[state]])));
    registry.add(new Gauge("edged_cloud_online", "1 while the cloud is reachable, 0 while edged considers it offline", () => (sources.online() ? 1 : 0)));
    registry.add(new Gauge("edged_offline_jobs", "Jobs of the offline queue by status (finished ones are kept for offline.retention)", () => Object.entries(sources.queueJobs()).map(([status, n]): [Labels, number] => [{ status }, n])));
    registry.add(new Gauge("edged_budget_usage_rows", "Hourly cloud-token buckets in usage.db (one per key and hour, kept for a day)", sources.budgetRows));
  }
}
