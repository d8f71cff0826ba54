/**
 * Alert events delivered to webhooks: each event for each webhook is a job in DATA_DIR/webhooks.db, the offline
 * queue's own store and replay worker, so a receiver that is down (or a network that is) gets every event once it
 * is back, retried with backoff, in spite of restarts. POSTed as JSON over undici; a 2xx is delivered, a 4xx other
 * than 408 and 429 is refused for good (dead-lettered), anything else is tried again.
 */
import { Agent, request } from "undici";
import { openDatabase, type Db } from "../db/open.js";
import { ConnectivityWatcher } from "../offline/connectivity.js";
import { FinishedStatus, type ClaimedJob } from "../offline/job.js";
import { JobStore } from "../offline/jobStore.js";
import { OFFLINE_MIGRATIONS } from "../offline/migrations.js";
import { ReplayWorker, type FailureKind } from "../offline/replayWorker.js";
import type { AlertEvent } from "./engine.js";

export interface WebhookConfig {
  url: string;
  headers: Record<string, string>;
}

export interface WebhookOptions {
  path: string;
  webhooks: readonly WebhookConfig[];
  /** How long an undelivered event is kept, and how often it is tried. */
  ttlMs: number;
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  probeIntervalMs: number;
  log: (message: string) => void;
}

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message);
  }
}

export class WebhookDelivery {
  private readonly db: Db;
  readonly store: JobStore;
  private readonly worker: ReplayWorker;
  private readonly connectivity: ConnectivityWatcher;
  private readonly agent = new Agent({ connect: { timeout: 5000 }, headersTimeout: 10_000, bodyTimeout: 10_000 });

  constructor(private readonly options: WebhookOptions) {
    this.db = openDatabase(options.path, OFFLINE_MIGRATIONS);
    this.store = new JobStore(this.db);
    // a receiver counts as reachable again when it answers anything at all
    this.connectivity = new ConnectivityWatcher({
      probe: async (signal) => {
        await Promise.any(options.webhooks.map((w) => request(w.url, { method: "HEAD", dispatcher: this.agent, signal }).then((res) => res.body.dump())));
        return true;
      },
      probeIntervalMs: options.probeIntervalMs,
    });
    this.worker = new ReplayWorker({
      store: this.store,
      send: (job, signal) => this.deliver(job, signal),
      classify: (error) => (error instanceof DeliveryError ? error.kind : "connection"),
      connectivity: this.connectivity,
      backoff: options.backoff,
      onStorage: (full, error) => options.log(full ? `alert webhooks: ${(error as Error).message}` : "alert webhooks: writes succeed again"),
    });
    if (options.webhooks.length) this.worker.start();
  }

  /** Queues the event for every webhook (once: the same event again is the same job). */
  send(event: AlertEvent): void {
    for (const [i, w] of this.options.webhooks.entries()) {
      this.store.enqueue({ idempotencyKey: `${event.name}|${event.state}|${event.at}|${i}`, request: { webhook: i, event }, target: w.url, ttlMs: this.options.ttlMs, maxAttempts: this.options.maxAttempts });
    }
    this.worker.kick();
  }

  /** Finished deliveries older than `olderThanMs`; the number removed. */
  purge(olderThanMs: number): number {
    return FinishedStatus.options.reduce((n, status) => n + this.store.purge({ status, olderThanMs }), 0);
  }

  private async deliver(job: ClaimedJob, signal: AbortSignal): Promise<unknown> {
    const { webhook, event } = job.request as { webhook: number; event: AlertEvent };
    const target = this.options.webhooks[webhook];
    if (!target) throw new DeliveryError(`webhook ${webhook} is no longer configured`, "permanent");
    const res = await request(target.url, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": job.idempotencyKey, ...target.headers },
      body: JSON.stringify(event),
      dispatcher: this.agent,
      signal,
    });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode };
    const kind: FailureKind = res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 408 && res.statusCode !== 429 ? "permanent" : "retryable";
    throw new DeliveryError(`${target.url} answered ${res.statusCode}`, kind);
  }

  async stop(): Promise<void> {
    await this.worker.stop();
    this.connectivity.stop();
    await this.agent.close();
    this.db.close();
  }
}
