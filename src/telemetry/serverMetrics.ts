/** The daemon's metrics, registered once and rendered at GET /metrics. */
import type { DataDirectory } from "../db/storage.js";
import { Counter, Gauge, Histogram, Registry, type Labels } from "./metrics.js";
import { registerProcessMetrics } from "./processMetrics.js";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface SchedulerView {
  readonly busy: number;
  readonly waiting: number;
  readonly slots: number;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.add(new Counter("edged_http_requests_total", "HTTP requests by route and status code"));
  readonly latency = this.registry.add(new Histogram("edged_request_duration_seconds", "Total time to answer a request, by route", LATENCY_BUCKETS));
  readonly ttft = this.registry.add(new Histogram("edged_time_to_first_token_seconds", "Time from request arrival to the first generated token", LATENCY_BUCKETS));
  readonly tokensIn = this.registry.add(new Counter("edged_prompt_tokens_total", "Prompt tokens processed, by model"));
  readonly tokensOut = this.registry.add(new Counter("edged_completion_tokens_total", "Tokens generated, by model"));
  readonly tokensReused = this.registry.add(new Counter("edged_prompt_tokens_reused_total", "Prompt tokens whose evaluated state was reused from an earlier request (prefix reuse)"));
  readonly prefixLookups = this.registry.add(new Counter("edged_prefix_cache_lookups_total", "Generations that looked for a reusable prompt prefix"));
  readonly prefixHits = this.registry.add(new Counter("edged_prefix_cache_hits_total", "Generations that reused a prompt prefix (hit rate = hits / lookups)"));

  readonly modelLoadFailures = this.registry.add(new Counter("edged_model_load_failures_total", "Models that could not be loaded (file missing or changed, too big, a bad file), by model"));
  readonly purged = this.registry.add(new Counter("edged_purged_total", "Rows removed past their retention, by what (offline_jobs, stored_responses, budget_hours, expired_memories)"));

  /** `lanes` lists the device lanes by device. */
  constructor(lanes: () => [string, SchedulerView][]) {
    const byDevice = (read: (s: SchedulerView) => number) => () => lanes().map(([device, lane]): [Labels, number] => [{ device }, read(lane)]);
    this.registry.add(new Gauge("edged_queue_depth", "Requests waiting for a slot, by device lane", byDevice((s) => s.waiting)));
    this.registry.add(new Gauge("edged_slots_busy", "Slots generating now, by device lane", byDevice((s) => s.busy)));
    this.registry.add(new Gauge("edged_slots_total", "Slots of each device lane", byDevice((s) => s.slots)));
    registerProcessMetrics(this.registry);
  }

  /** The data directory's free space, and whether it counts as full (writes answered 507). */
  watchStorage(storage: DataDirectory): void {
    this.registry.add(new Gauge("edged_data_dir_free_bytes", "Free bytes on the data directory's filesystem", () => storage.freeBytes()));
    this.registry.add(new Gauge("edged_data_dir_full", "1 while the data directory is full: writes are refused with 507", () => (storage.full ? 1 : 0)));
    this.registry.add(new Gauge("edged_data_file_bytes", "Size of each database file and its write-ahead log in the data directory", () => storage.databaseFiles().map(([file, bytes]): [Labels, number] => [{ file }, bytes])));
  }

  /** What grows with use: memory's tombstoned items and audit chain (kept for good), stored responses, compiled grammars. */
  watchStores(stores: { memory: () => { items: number; auditEntries: number }; responses: () => number; grammars: () => number }): void {
    this.registry.add(new Gauge("edged_memory_items", "Memory items ever created, forgotten ones included (their tombstones are kept)", () => stores.memory().items));
    this.registry.add(new Gauge("edged_memory_audit_entries", "Entries of memory's append-only audit chain", () => stores.memory().auditEntries));
    this.registry.add(new Gauge("edged_stored_responses", "Responses API answers stored for previous_response_id (kept for responses.retention)", stores.responses));
    this.registry.add(new Gauge("edged_grammar_cache_entries", "Compiled JSON-schema grammars kept (LRU, llama.grammarCache entries)", stores.grammars));
  }

  watchAlerts(alerts: () => { name: string; severity: string; state: string }[]): void {
    this.registry.add(new Gauge("edged_alert_active", "1 while an alert rule is firing, by name and severity", () => alerts().map((a): [Labels, number] => [{ name: a.name, severity: a.severity }, a.state === "firing" ? 1 : 0])));
  }

  observeResponse(route: string, status: number, seconds: number): void {
    this.requests.inc({ route, status: String(status) });
    this.latency.observe(seconds, { route });
  }
}
