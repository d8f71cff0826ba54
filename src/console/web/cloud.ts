/**
 * Cloud and queue: each provider's circuit breaker and how its calls ended (from /metrics), the cloud tokens
 * each API key spent against its budget (GET /v1/budgets), and the offline
 * queue's jobs by status (GET /v1/queue) with one job's record and history, and purging finished jobs.
 */
import { json, text } from "./api.js";
import { field, fill, h, section, state, table } from "./dom.js";
import { confirmed, poll, type Page } from "./page.js";
import { named, parseMetrics, type Sample } from "./exposition.js";

interface Job {
  id: string;
  model: string;
  status: string;
  attempts: number;
  max_attempts: number;
  created_at: number;
  expires_at: number;
  next_attempt_at: number | null;
  error?: unknown;
  reason?: string;
  result?: unknown;
}

interface JobEvent {
  at: number;
  attempt: number;
  event: string;
  detail: string | null;
}

interface Budgets {
  limits: { per_hour: number | null; per_day: number | null };
  data: { key_id: string; hour_tokens: number; day_tokens: number }[];
}

const FINISHED = ["done", "dead", "expired"];
const BREAKER = ["closed", "half-open", "open"];
const when = (s: number | null) => (s === null ? "–" : new Date(s * 1000).toLocaleString());

function providers(samples: Sample[]): HTMLElement {
  const calls = named(samples, "edged_cloud_calls_total");
  const rows = named(samples, "edged_cloud_breaker_state").map((s) => {
    const provider = s.labels.provider ?? "";
    const outcomes = calls.filter((c) => c.labels.provider === provider && c.value > 0).map((c) => `${c.labels.outcome}: ${c.value}`);
    return [provider, BREAKER[s.value] ?? String(s.value), outcomes.join(", ") || "no calls yet"];
  });
  const online = named(samples, "edged_cloud_online")[0];
  return section(
    "Cloud providers",
    online && h("p", {}, online.value ? "The cloud is reachable." : "The cloud is unreachable: cloud-bound work waits in the offline queue."),
    rows.length ? table(["provider", "breaker", "calls by outcome"], rows) : state("empty", "No cloud provider is configured."),
  );
}

function budgets(b: Budgets): HTMLElement {
  const of = (used: number, limit: number | null) => (limit === null ? String(used) : `${used} of ${limit} (${Math.round((100 * used) / limit)} %)`);
  return section(
    "Cloud token budgets",
    h("p", {}, `Limits per key: ${b.limits.per_hour ?? "none"} an hour, ${b.limits.per_day ?? "none"} a day.`),
    b.data.length ? table(["key id", "this hour", "last 24 hours"], b.data.map((k) => [h("code", {}, k.key_id), of(k.hour_tokens, b.limits.per_hour), of(k.day_tokens, b.limits.per_day)])) : state("empty", "No key spent cloud tokens in the last day."),
  );
}

export const cloud: Page = {
  title: "Cloud and queue",
  show(view, signal) {
    const top = h("div");
    const status = h("select", {}, h("option", { value: "" }, "any status"), ["queued", "running", "done", "dead", "expired"].map((s) => h("option", { value: s }, s)));
    const jobs = h("div", { "aria-live": "polite" });
    const job = h("div", { class: "item" });
    const open = (id: string) =>
      void Promise.all([json<Job>(`/v1/queue/${encodeURIComponent(id)}`), json<{ data: JobEvent[] }>(`/v1/queue/${encodeURIComponent(id)}/events`)]).then(
        ([j, events]) =>
          fill(
            job,
            section(
              `Job ${j.id}`,
              table(["time", "attempt", "event", "detail"], events.data.map((e) => [new Date(e.at).toLocaleString(), e.attempt, e.event, e.detail ?? ""]), "History"),
              h("pre", {}, JSON.stringify(j, null, 2)),
            ),
          ),
        (error: Error) => fill(job, state("error", error.message)),
      );
    const purged = h("p", { "aria-live": "polite" });
    const purge = h(
      "div",
      { class: "buttons" },
      FINISHED.map((s) =>
        confirmed(`Purge ${s}`, `Delete every ${s} job and its history?`, purged, async () => {
          const r = await json<{ purged: number }>(`/v1/queue?status=${s}`, { method: "DELETE" });
          purged.textContent = `Purged ${r.purged} ${s} job(s).`;
          await list();
        }),
      ),
    );
    fill(view, h("h1", { tabindex: "-1" }, "Cloud and queue"), top, section("Offline queue", field("Status", status, "queue-status"), jobs, purge, purged), job);
    poll(top, 3000, signal, async () => {
      const [metrics, spent] = await Promise.all([text("/metrics"), json<Budgets>("/v1/budgets")]);
      fill(top, providers(parseMetrics(metrics)), budgets(spent));
    });
    /** What the list shows now: it is redrawn only when that changes, so a row being clicked or focused stays put. */
    let shown = "";
    const list = async () => {
      const query = new URLSearchParams({ limit: "100", ...(status.value && { status: status.value }) });
      const r = await json<{ data: Job[]; counts: Record<string, number> }>(`/v1/queue?${query}`);
      const seen = JSON.stringify([status.value, r]);
      if (seen === shown) return;
      shown = seen;
      const counts = Object.entries(r.counts).map(([s, n]) => `${s}: ${n}`).join(", ");
      fill(
        jobs,
        h("p", {}, counts ? `Jobs by status: ${counts}` : "The queue has held no job."),
        r.data.length
          ? table(
              ["job", "model", "status", "attempts", "created", "next attempt", "reason"],
              r.data.map((j) => [h("button", { type: "button", class: "link", onclick: () => open(j.id) }, j.id), j.model, j.status, `${j.attempts} of ${j.max_attempts}`, when(j.created_at), when(j.next_attempt_at), j.reason ?? ""]),
            )
          : state("empty", "No job has this status."),
      );
    };
    status.addEventListener("change", () =>
      void list().catch((error: Error) => {
        shown = "";
        fill(jobs, state("error", error.message));
      }),
    );
    poll(jobs, 3000, signal, () =>
      list().catch((error: Error) => {
        shown = ""; // the error replaced the list: draw it again once it loads
        throw error;
      }),
    );
  },
};
