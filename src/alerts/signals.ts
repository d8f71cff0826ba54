/**
 * What alert rules can watch, each read from the daemon's own metrics the way a PromQL expression would read them
 * (`expr` is that expression, for `edged alerts export-rules`). Rates and quantiles look back over a window.
 */
import type { SampleHistory } from "./history.js";
import { largest, total, type Samples } from "./samples.js";

const MINUTE = 60_000;

export interface Signal {
  help: string;
  /** How far back it looks (0: the latest value only). */
  windowMs: number;
  /** Its value now, or undefined when there is nothing to judge (no requests in the window, say). */
  read(history: SampleHistory): number | undefined;
  /** The same in PromQL. */
  expr: string;
}

const increase = (history: SampleHistory, windowMs: number, read: (s: Samples) => number): number | undefined => {
  const now = history.latest;
  const then = history.since(windowMs);
  return now && then ? Math.max(0, read(now.samples) - read(then.samples)) : undefined;
};

/** The q-quantile of a histogram's observations within the window, interpolated inside its bucket as Prometheus does. */
function quantile(history: SampleHistory, windowMs: number, name: string, q: number): number | undefined {
  const now = history.latest?.samples.get(`${name}_bucket`) ?? [];
  const then = history.since(windowMs)?.samples.get(`${name}_bucket`) ?? [];
  const counts = new Map<number, number>();
  for (const s of now) counts.set(Number(s.labels.le), (counts.get(Number(s.labels.le)) ?? 0) + s.value);
  for (const s of then) counts.set(Number(s.labels.le), (counts.get(Number(s.labels.le)) ?? 0) - s.value);
  const buckets = [...counts].sort(([a], [b]) => a - b);
  const all = buckets.at(-1)?.[1] ?? 0;
  if (all <= 0) return undefined;
  const rank = q * all;
  let below = 0;
  let lower = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) return le === Infinity ? lower : lower + (le - lower) * ((rank - below) / Math.max(count - below, 1e-9));
    below = count;
    lower = le;
  }
  return lower;
}

export const SIGNALS = {
  request_latency_p95_seconds: {
    help: "95th percentile of the time to answer a request, over 5 minutes",
    windowMs: 5 * MINUTE,
    read: (h) => quantile(h, 5 * MINUTE, "edged_request_duration_seconds", 0.95),
    expr: "histogram_quantile(0.95, sum by (le) (increase(edged_request_duration_seconds_bucket[5m])))",
  },
  error_ratio: {
    help: "Share of requests answered with a 5xx status, over 5 minutes",
    windowMs: 5 * MINUTE,
    read: (h) => {
      const all = increase(h, 5 * MINUTE, (s) => total(s, "edged_http_requests_total"));
      const failed = increase(h, 5 * MINUTE, (s) => total(s, "edged_http_requests_total", (l) => (l.status ?? "").startsWith("5")));
      return all ? failed! / all : undefined;
    },
    expr: 'sum(increase(edged_http_requests_total{status=~"5.."}[5m])) / sum(increase(edged_http_requests_total[5m]))',
  },
  cloud_tokens_per_hour: {
    help: "Cloud tokens (prompt and completion) spent in the last hour",
    windowMs: 60 * MINUTE,
    read: (h) => increase(h, 60 * MINUTE, (s) => total(s, "edged_cloud_tokens_total")),
    expr: "sum(increase(edged_cloud_tokens_total[1h]))",
  },
  breaker_open: {
    help: "1 while a cloud provider's circuit breaker is open",
    windowMs: 0,
    read: (h) => {
      const level = h.latest && largest(h.latest.samples, "edged_cloud_breaker_state");
      return level === undefined ? undefined : level >= 2 ? 1 : 0;
    },
    expr: "max(edged_cloud_breaker_state) >= bool 2",
  },
  queued_jobs: {
    help: "Offline-queue jobs waiting to be sent",
    windowMs: 0,
    read: (h) => h.latest && total(h.latest.samples, "edged_offline_jobs", (l) => l.status === "queued"),
    expr: 'sum(edged_offline_jobs{status="queued"})',
  },
  data_dir_free_bytes: {
    help: "Free space where the data directory is",
    windowMs: 0,
    read: (h) => h.latest && largest(h.latest.samples, "edged_data_dir_free_bytes"),
    expr: "min(edged_data_dir_free_bytes)",
  },
  model_load_failures: {
    help: "Models that could not be loaded in the last 5 minutes",
    windowMs: 5 * MINUTE,
    read: (h) => increase(h, 5 * MINUTE, (s) => total(s, "edged_model_load_failures_total")),
    expr: "sum(increase(edged_model_load_failures_total[5m]))",
  },
} satisfies Record<string, Signal>;

export type SignalName = keyof typeof SIGNALS;
