/**
 * A device lane: up to `slots` requests run at once, at most `maxWaiting` wait, higher priority classes first.
 * Admission is decided at once: a full queue, or a deadline the predicted start would already miss, is refused
 * before any work. Waiting requests leave the queue as soon as their signal aborts.
 */
import PQueue from "p-queue";
import { QueueFullError } from "./errors.js";

export const PRIORITIES = { interactive: 2, background: 1, batch: 0 } as const;
export type Priority = keyof typeof PRIORITIES;

export interface SlotSchedulerOptions {
  slots: number;
  maxWaiting: number;
  /** Slots only interactive requests may take, so background and batch work never fill the lane. */
  reservedForInteractive?: number;
  now?: () => number;
}

export interface RunOptions {
  signal?: AbortSignal;
  priority?: Priority;
  /** Milliseconds the request may still take in all; refused at once if it would not even start in time. */
  deadlineMs?: number;
}

export class SlotScheduler {
  private readonly queue: PQueue;
  /** Background and batch requests pass this narrower gate before they may take a slot. */
  private readonly gate: PQueue;
  private readonly now: () => number;
  /** Exponentially weighted mean of how long a request holds a slot. */
  private meanServiceMs = 0;

  constructor(private readonly options: SlotSchedulerOptions) {
    this.queue = new PQueue({ concurrency: options.slots });
    this.gate = new PQueue({ concurrency: Math.max(1, options.slots - (options.reservedForInteractive ?? 0)) });
    this.now = options.now ?? (() => performance.now());
  }

  get busy(): number {
    return this.queue.pending;
  }

  get waiting(): number {
    return this.queue.size + this.gate.size;
  }

  get slots(): number {
    return this.options.slots;
  }

  /**
   * When a request of this priority queued now would likely start: the requests it would wait behind
   * (queued at its priority or higher) times the observed service time, spread over the slots.
   */
  predictedWaitMs(priority: Priority = "interactive"): number {
    const interactive = priority === "interactive";
    const capacity = interactive ? this.options.slots : this.gate.concurrency;
    const free = this.queue.pending < this.options.slots && (interactive || this.gate.pending < this.gate.concurrency);
    if (free) return 0;
    const levels: number[] = Object.values(PRIORITIES).filter((level) => level >= PRIORITIES[priority]);
    const atOrAbove = (queue: PQueue) => levels.reduce((n, level) => n + queue.sizeBy({ priority: level }), 0);
    const ahead = atOrAbove(this.queue) + (interactive ? 0 : atOrAbove(this.gate));
    return Math.ceil(((ahead + 1) / capacity) * this.meanServiceMs);
  }

  async run<T>(task: () => Promise<T>, { signal, priority = "interactive", deadlineMs }: RunOptions = {}): Promise<T> {
    if (this.queue.pending >= this.options.slots && this.waiting >= this.options.maxWaiting) {
      throw new QueueFullError(
        `Too many requests: ${this.queue.pending} running and ${this.waiting} waiting (the limit); retry later`,
        Math.max(this.predictedWaitMs(priority), 1000),
      );
    }
    const wait = this.predictedWaitMs(priority);
    if (deadlineMs !== undefined && wait >= deadlineMs) {
      // deadlineMs is what is left of the request's deadline by now: it may be a fraction, or already past
      throw new QueueFullError(`The request's deadline cannot be met: ${Math.max(0, Math.round(deadlineMs))} ms of it are left, and it would start in about ${wait} ms`, wait, "deadline_unreachable");
    }
    signal?.throwIfAborted();
    // Only a waiting request leaves the queue when its signal aborts. Given the request's own signal, p-queue would
    // also free a running task's slot at once, before the task has handed back what it holds (its sequence); a
    // running task ends through that signal itself, and frees the slot when it returns.
    const waiting = new AbortController();
    let started = false;
    const leave = () => {
      if (!started) waiting.abort(signal!.reason);
    };
    signal?.addEventListener("abort", leave, { once: true });
    const inSlot = () =>
      this.queue.add(
        async () => {
          started = true;
          const begun = this.now();
          try {
            return await task();
          } finally {
            const took = this.now() - begun;
            this.meanServiceMs = this.meanServiceMs === 0 ? took : 0.8 * this.meanServiceMs + 0.2 * took;
          }
        },
        { signal: waiting.signal, priority: PRIORITIES[priority] },
      ) as Promise<T>;
    const gated = priority !== "interactive" && (this.options.reservedForInteractive ?? 0) > 0;
    const admitted = gated ? (this.gate.add(inSlot, { signal: waiting.signal, priority: PRIORITIES[priority] }) as Promise<T>) : inSlot();
    try {
      return await admitted;
    } catch (error) {
      // p-queue rejects a request that left while waiting with its own AbortError; the signal's reason says why
      if (signal?.aborted) throw signal.reason;
      throw error;
    } finally {
      signal?.removeEventListener("abort", leave);
    }
  }
}
