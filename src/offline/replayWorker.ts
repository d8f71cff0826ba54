/**
 * Replays queued jobs to the cloud while it is reachable: claims due jobs (up to `concurrency` in flight), sends
 * each and records the outcome under the claim's lease. The caller classifies a failure: "connection" (no answer:
 * retried, and reported to the connectivity watcher), "retryable" (retried after full-jitter exponential backoff,
 * or after the error's retryAfterMs) or "permanent" (dead-lettered at once); the store dead-letters a job whose
 * last allowed attempt failed. Between jobs the worker sleeps until the next one is due or expires, a kick() or
 * the cloud coming back. One worker per database: start() first requeues what a dead process left running.
 *
 * stop() aborts the sends in flight and leaves their jobs running in the database, as a crash would; the next
 * start() requeues them with the attempt counted (a send that resolves despite the abort still records its result).
 * Delivery to the cloud is at least once — send should pass the job's idempotencyKey on — and the recorded result
 * exactly once. A write the disk refuses for lack of space is tried again every `storageRetryMs` (an answer in hand
 * is kept until it is recorded); other SQLite failures are not caught: like any storage fault they end the process,
 * and nothing is lost.
 */
import { isStorageFull } from "../db/storage.js";
import type { ConnectivityWatcher } from "./connectivity.js";
import type { ClaimedJob } from "./job.js";
import type { JobStore } from "./jobStore.js";
import { realTimers, type Timers } from "./timers.js";

export type FailureKind = "connection" | "retryable" | "permanent";

export interface ReplayWorkerOptions {
  store: JobStore;
  /** Sends the job's request to the cloud and resolves with the answer (JSON); ends when the signal aborts. */
  send: (job: ClaimedJob, signal: AbortSignal) => Promise<unknown>;
  classify: (error: unknown) => FailureKind;
  connectivity: ConnectivityWatcher;
  concurrency?: number;
  /** Milliseconds before any send could get through (e.g. while every circuit breaker is open): nothing is claimed until then. */
  holdMs?: () => number;
  /** Called once a job's result is recorded (not for a result a stale claim could not record). */
  onDone?: (job: ClaimedJob, result: unknown) => void;
  backoff?: { baseMs: number; maxMs: number };
  /** After the disk refused a write for lack of space: how long until it is tried again (1 s). */
  storageRetryMs?: number;
  /** Told once when writes start failing for lack of space, and once when they succeed again. */
  onStorage?: (full: boolean, error?: unknown) => void;
  random?: () => number;
  timers?: Timers;
}

/**
 * The longest the worker sleeps before looking again: Node keeps a timer list for each distinct delay until that
 * delay has passed, even once its timer is cleared, so re-arming at ever new far-off delays (a job's expiry a day
 * away, at every claim) would keep thousands of empty lists for a day. Far wake-ups share this one delay.
 */
const LONGEST_SLEEP_MS = 60_000;

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The delay the cloud asked for (HTTP Retry-After, or edged's own QueueFullError), when the error carries one. */
function retryAfterMs(error: unknown): number | undefined {
  const ms = (error as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs;
  return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export class ReplayWorker {
  private readonly store: JobStore;
  private readonly connectivity: ConnectivityWatcher;
  private readonly concurrency: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly random: () => number;
  private readonly timers: Timers;
  private readonly inFlight = new Map<string, { abort: AbortController; settled: Promise<void> }>();
  private idleWaiters: Array<() => void> = [];
  private running = false;
  private timer: unknown;
  private storageFull = false;

  constructor(private readonly options: ReplayWorkerOptions) {
    this.store = options.store;
    this.connectivity = options.connectivity;
    this.concurrency = options.concurrency ?? 2;
    this.backoff = options.backoff ?? { baseMs: 1000, maxMs: 300_000 };
    this.random = options.random ?? Math.random;
    this.timers = options.timers ?? realTimers;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.store.recoverInterrupted();
    this.connectivity.on("change", this.wake);
    this.pump();
  }

  /** A job was enqueued: look for due work now rather than at the next timer. */
  kick(): void {
    this.pump();
  }

  /** Resolves once nothing is in flight and nothing is due (or the cloud is unreachable). */
  drain(): Promise<void> {
    this.pump();
    if (!this.running || this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.connectivity.off("change", this.wake);
    this.disarm();
    const tasks = [...this.inFlight.values()];
    for (const task of tasks) task.abort.abort(new Error("the replay worker stopped"));
    await Promise.all(tasks.map((task) => task.settled));
    this.settleIdle();
  }

  private readonly wake = () => this.pump();

  private pump(): void {
    if (!this.running) return;
    this.disarm();
    try {
      const expiry = this.store.nextExpiryAt();
      if (expiry !== null && expiry <= this.store.now()) this.store.expire();
      const free = this.concurrency - this.inFlight.size;
      if (this.connectivity.online && free > 0 && this.held() === 0) for (const job of this.store.claimDue(free)) this.launch(job);
      this.storageRecovered();
    } catch (error) {
      if (!isStorageFull(error)) throw error;
      this.storageRefused(error);
      this.timer = this.timers.setTimeout(this.wake, this.storageRetryMs);
      return;
    }
    this.arm();
    if (this.inFlight.size === 0) this.settleIdle();
  }

  private get storageRetryMs(): number {
    return this.options.storageRetryMs ?? 1000;
  }

  private storageRefused(error: unknown): void {
    if (this.storageFull) return;
    this.storageFull = true;
    this.options.onStorage?.(true, error);
  }

  private storageRecovered(): void {
    if (!this.storageFull) return;
    this.storageFull = false;
    this.options.onStorage?.(false);
  }

  /** Makes a write, waiting out a full disk; undefined when the worker stopped first (a crash's outcome: the job stays running). */
  private async persist<T>(write: () => T, signal: AbortSignal): Promise<T | undefined> {
    for (;;) {
      try {
        const written = write();
        this.storageRecovered();
        return written;
      } catch (error) {
        if (!isStorageFull(error)) throw error;
        this.storageRefused(error);
      }
      const waited = await new Promise<boolean>((resolve) => {
        if (signal.aborted) return resolve(false);
        const timer = this.timers.setTimeout(() => resolve(true), this.storageRetryMs);
        signal.addEventListener("abort", () => (this.timers.clearTimeout(timer), resolve(false)), { once: true });
      });
      if (!waited) return undefined;
    }
  }

  /** Wakes at the next expiry, and at the next due job while a send could start. */
  private arm(): void {
    const times = [this.store.nextExpiryAt()];
    const held = this.held();
    if (this.connectivity.online && this.inFlight.size < this.concurrency) times.push(held > 0 ? this.store.now() + held : this.store.nextDueAt());
    const at = Math.min(...times.filter((t) => t !== null));
    if (at === Infinity) return;
    this.timer = this.timers.setTimeout(this.wake, Math.min(Math.max(at - this.store.now(), 0), LONGEST_SLEEP_MS));
  }

  private held(): number {
    return Math.max(0, this.options.holdMs?.() ?? 0);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private launch(job: ClaimedJob): void {
    const abort = new AbortController();
    const settled = this.attempt(job, abort.signal).finally(() => {
      this.inFlight.delete(job.id);
      this.pump();
    });
    this.inFlight.set(job.id, { abort, settled });
  }

  private async attempt(job: ClaimedJob, signal: AbortSignal): Promise<void> {
    let result: unknown;
    try {
      result = await this.options.send(job, signal);
    } catch (error) {
      if (!signal.aborted) await this.fail(job, error, signal);
      return;
    }
    if (await this.persist(() => this.store.complete(job.id, job.lease, result), signal)) await this.persist(() => this.options.onDone?.(job, result), signal);
    this.connectivity.reportSuccess();
  }

  private async fail(job: ClaimedJob, error: unknown, signal: AbortSignal): Promise<void> {
    const kind = this.options.classify(error);
    if (kind === "permanent") {
      await this.persist(() => this.store.deadLetter(job.id, job.lease, describe(error)), signal);
      return;
    }
    await this.persist(() => this.store.retry(job.id, job.lease, describe(error), this.store.now() + (retryAfterMs(error) ?? this.backoffMs(job.attempts))), signal);
    if (kind === "connection") this.connectivity.reportFailure();
  }

  /** Full jitter: uniform in [0, min(max, base * 2^(attempt-1))), so retries after an outage spread out. */
  private backoffMs(attempt: number): number {
    return Math.floor(this.random() * Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (attempt - 1)));
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
