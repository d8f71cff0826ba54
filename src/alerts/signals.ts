/**
 * What alert rules can watch, each read from the daemon's own metrics the way a PromQL expression would read them
 * (`expr` is that expression, for `edged alerts export-rules`). Rates and quantiles look back over a window.
 *
 * Each evaluation keeps, per signal, only a reading of a few numbers (a histogram's buckets summed by bound, a
 * counter's total), not the samples themselves: an hour's window of evaluations then costs kilobytes, however many
 * routes and statuses the metrics have.
 */
import { numberOf, quantile as histogramQuantile } from "../console/web/exposition.js";
import { largest, total, type Samples } from "./samples.js";

const MINUTE = 60_000;

/** A few named numbers a signal keeps of one evaluation. */
export type Reading = Readonly<Record<string, number>>;

export interface Signal {
  help: string;
  /** How far back it looks (0: the latest value only). */
  windowMs: number;
  reduce(samples: Samples): Reading;
  /** Its value from the latest reading and the one a window ago, or undefined when there is nothing to judge. */
  read(now: Reading, then: Reading): number | undefined;
  /** The same in PromQL. */
  expr: string;
}

const increase = (now: Reading, then: Reading, key: string): number | undefined => (now[key] === undefined || then[key] === undefined ? undefined : Math.max(0, now[key]! - then[key]!));

/** A histogram's cumulative counts by bound, summed over its other labels. */
function buckets(samples: Samples, name: string): Reading {
  const counts: Record<string, number> = {};
  for (const s of samples.get(`${name}_bucket`) ?? []) counts[s.labels.le!] = (counts[s.labels.le!] ?? 0) + s.value;
  return counts;
}

/** The q-quantile of the observations between two readings of `buckets`, interpolated inside its bucket as Prometheus does. */
function quantile(now: Reading, then: Reading, q: number): number | undefined {
  const bounds = (r: Reading) => Object.entries(r).map(([le, n]): [number, number] => [numberOf(le), n]).sort(([a], [b]) => a - b);
  return histogramQuantile(q, bounds(now), bounds(then));
}

/** A reading of one value, absent when there is none. */
const one = (value: number | undefined): Reading => (value === undefined ? {} : { value });

export const SIGNALS = {
  request_latency_p95_seconds: {
    help: "95th percentile of the time to answer a request, over 5 minutes",
    windowMs: 5 * MINUTE,
    reduce: (s) => buckets(s, "edged_request_duration_seconds"),
    read: (now, then) => quantile(now, then, 0.95),
    expr: "histogram_quantile(0.95, sum by (le) (increase(edged_request_duration_seconds_bucket[5m])))",
  },
  error_ratio: {
    help: "Share of requests answered with a 5xx status, over 5 minutes",
    windowMs: 5 * MINUTE,
    reduce: (s) => ({ all: total(s, "edged_http_requests_total"), failed: total(s, "edged_http_requests_total", (l) => (l.status ?? "").startsWith("5")) }),
    read: (now, then) => {
      const all = increase(now, then, "all");
      return all ? increase(now, then, "failed")! / all : undefined;
    },
    expr: 'sum(increase(edged_http_requests_total{status=~"5.."}[5m])) / sum(increase(edged_http_requests_total[5m]))',
  },
  cloud_tokens_per_hour: {
    help: "Cloud tokens (prompt and completion) spent in the last hour",
    windowMs: 60 * MINUTE,
    reduce: (s) => ({ value: total(s, "edged_cloud_tokens_total") }),
    read: (now, then) => increase(now, then, "value"),
    expr: "sum(increase(edged_cloud_tokens_total[1h]))",
  },
  breaker_open: {
    help: "1 while a cloud provider's circuit breaker is open",
    windowMs: 0,
    reduce: (s) => one(largest(s, "edged_cloud_breaker_state")),
    read: (now) => (now.value === undefined ? undefined : now.value >= 2 ? 1 : 0),
    expr: "max(edged_cloud_breaker_state) >= bool 2",
  },
  queued_jobs: {
    help: "Offline-queue jobs waiting to be sent",
    windowMs: 0,
    reduce: (s) => ({ value: total(s, "edged_offline_jobs", (l) => l.status === "queued") }),
    read: (now) => now.value,
    expr: 'sum(edged_offline_jobs{status="queued"})',
  },
  data_dir_free_bytes: {
    help: "Free space where the data directory is",
    windowMs: 0,
    reduce: (s) => one(largest(s, "edged_data_dir_free_bytes")),
    read: (now) => now.value,
    expr: "min(edged_data_dir_free_bytes)",
  },
  model_load_failures: {
    help: "Models that could not be loaded in the last 5 minutes",
    windowMs: 5 * MINUTE,
    reduce: (s) => ({ value: total(s, "edged_model_load_failures_total") }),
    read: (now, then) => increase(now, then, "value"),
    expr: "sum(increase(edged_model_load_failures_total[5m]))",
  },
  agreement_drop: {
    help: "Online evaluation: how far the latest agreement with the reference is below its baseline, the worst model and route",
    windowMs: 0,
    reduce: (s) => {
      const key = (l: Record<string, string>) => JSON.stringify([l.model, l.route, l.kind]);
      const current = new Map((s.get("edged_eval_agreement") ?? []).map((c) => [key(c.labels), c.value]));
      const drops = (s.get("edged_eval_agreement_baseline") ?? []).flatMap((b) => {
        const now = current.get(key(b.labels));
        return now === undefined ? [] : [b.value - now];
      });
      return one(drops.length ? Math.max(...drops) : undefined);
    },
    read: (now) => now.value,
    expr: "max(edged_eval_agreement_baseline - edged_eval_agreement)",
  },
} satisfies Record<string, Signal>;

export type SignalName = keyof typeof SIGNALS;
