/**
 * Traffic: latency, throughput and status charts of the last minutes, computed in the page from successive
 * readings of /metrics (each point covers the last few readings), with routing decisions and the latest
 * request-log records (GET /v1/requests).
 */
import { json, text } from "./api.js";
import { TimeChart } from "./chart.js";
import { fill, h, ms, section, state, table } from "./dom.js";
import { poll, type Page } from "./page.js";
import { buckets, named, parseMetrics, quantile, total, type Sample } from "./exposition.js";

const EVERY_MS = 2000;
/** Readings a point's quantiles and rates span (about ten seconds). */
const SPAN = 5;
/** Routes that answer model requests (the console's own polling of /metrics and the like is left out). */
const INFERENCE = /^\/(v1\/(chat\/completions|completions|messages|responses|embeddings)|api\/(chat|generate|embed|embeddings))$/;
const inference = (labels: Record<string, string>) => INFERENCE.test(labels.route ?? "");

interface Reading {
  t: number;
  samples: Sample[];
}

interface RouteRecord {
  at: string;
  model: string;
  route: string;
  reason: string;
  served_by?: string;
  predicted_ms?: number;
  actual_ms: number;
  budget_ms: number;
  path: string;
}

function statusRate(now: Reading, then: Reading, cls: string): number {
  const count = (r: Reading) => named(r.samples, "edged_http_requests_total").filter((s) => inference(s.labels) && s.labels.status?.startsWith(cls)).reduce((n, s) => n + s.value, 0);
  return (count(now) - count(then)) / (now.t - then.t);
}

function decisions(now: Reading, first: Reading): HTMLElement {
  const before = new Map(named(first.samples, "edged_route_decisions_total").map((s) => [`${s.labels.route}/${s.labels.reason}`, s.value]));
  const rows = named(now.samples, "edged_route_decisions_total").map((s) => [s.labels.route ?? "", s.labels.reason ?? "", s.value - (before.get(`${s.labels.route}/${s.labels.reason}`) ?? 0), s.value]);
  return section("Routing decisions", rows.length ? table(["route", "reason", "since this page opened", "since the daemon started"], rows) : state("empty", "No request has been routed yet."));
}

function latest(records: RouteRecord[]): HTMLElement {
  return section(
    "Latest requests",
    records.length
      ? table(
          ["time", "model", "route", "reason", "predicted", "actual", "budget"],
          records.map((r) => [new Date(r.at).toLocaleTimeString(), r.model, r.served_by && r.served_by !== r.route ? `${r.route} (${r.served_by})` : r.route, r.reason, ms(r.predicted_ms), ms(r.actual_ms), ms(r.budget_ms)]),
        )
      : state("empty", "No request has been routed yet."),
  );
}

export const traffic: Page = {
  title: "Traffic",
  show(view, signal) {
    const charts = h("div", { class: "charts" });
    const body = h("div");
    fill(view, h("h1", { tabindex: "-1" }, "Traffic"), charts, body);
    const ttft = new TimeChart(charts, "Time to first token (last 5 min)", ["p50", "p99"], "ms");
    const e2e = new TimeChart(charts, "Whole answer (last 5 min)", ["p50", "p99"], "ms");
    const tokens = new TimeChart(charts, "Tokens generated", ["tokens/s"], "tok/s");
    const status = new TimeChart(charts, "Model requests by status", ["2xx", "4xx", "5xx"], "req/s");
    const all = [ttft, e2e, tokens, status];
    const resize = () => all.forEach((c) => c.resize(charts.clientWidth));
    window.addEventListener("resize", resize);
    signal.addEventListener("abort", () => {
      window.removeEventListener("resize", resize);
      all.forEach((c) => c.destroy());
    });
    /** The last SPAN + 1 readings, and the first (for "since this page opened"). */
    const readings: Reading[] = [];
    let first: Reading | undefined;
    poll(body, EVERY_MS, signal, async () => {
      const [metrics, recent] = await Promise.all([text("/metrics"), json<{ data: RouteRecord[] }>("/v1/requests?limit=20")]);
      const now: Reading = { t: Date.now() / 1000, samples: parseMetrics(metrics) };
      first ??= now;
      readings.push(now);
      if (readings.length > SPAN + 1) readings.shift();
      const then = readings[0]!;
      if (then !== now) {
        const histogram = (name: string, keep?: (l: Record<string, string>) => boolean) => [buckets(now.samples, name, keep), buckets(then.samples, name, keep)] as const;
        const [t1, t0] = histogram("edged_time_to_first_token_seconds");
        const [e1, e0] = histogram("edged_request_duration_seconds", inference);
        const toMs = (v: number | undefined) => (v === undefined ? undefined : v * 1000);
        ttft.add(now.t, [toMs(quantile(0.5, t1, t0)), toMs(quantile(0.99, t1, t0))]);
        e2e.add(now.t, [toMs(quantile(0.5, e1, e0)), toMs(quantile(0.99, e1, e0))]);
        tokens.add(now.t, [(total(now.samples, "edged_completion_tokens_total") - total(then.samples, "edged_completion_tokens_total")) / (now.t - then.t)]);
        status.add(now.t, ["2", "4", "5"].map((cls) => statusRate(now, then, cls)));
      }
      if (!signal.aborted) fill(body, decisions(now, first), latest(recent.data));
    });
  },
};
