/**
 * Admission to a model's parallel sequences: up to `slots` requests run at once, at most `maxWaiting` wait,
 * and the rest are refused at once with an estimate of when to retry. Waiting requests leave the queue
 * as soon as their signal aborts.
 */
import PQueue from "p-queue";
import { QueueFullError } from "./errors.js";

export interface SlotSchedulerOptions {
  slots: number;
  maxWaiting: number;
  now?: () => number;
}

export class SlotScheduler {
  private readonly queue: PQueue;
  private readonly now: () => number;
  /** Exponentially weighted mean of how long a request holds a slot. */
  private meanServiceMs = 0;

  constructor(private readonly options: SlotSchedulerOptions) {
    this.queue = new PQueue({ concurrency: options.slots });
    this.now = options.now ?? (() => performance.now());
  }

  get busy(): number {
    return this.queue.pending;
  }

  get waiting(): number {
    return this.queue.size;
  }

  get slots(): number {
    return this.options.slots;
  }

  /** When a request queued now would likely start, from the queue's length and observed service times. */
  predictedWaitMs(): number {
    if (this.queue.pending < this.options.slots) return 0;
    return Math.ceil(((this.queue.size + 1) / this.options.slots) * this.meanServiceMs);
  }

  async run<T>(task: () => Promise<T>, { signal }: { signal?: AbortSignal } = {}): Promise<T> {
    if (this.queue.pending >= this.options.slots && this.queue.size >= this.options.maxWaiting) {
      throw new QueueFullError(
        `Too many requests: ${this.queue.pending} running and ${this.queue.size} waiting (the limit); retry later`,
        Math.max(this.predictedWaitMs(), 1000),
      );
    }
    signal?.throwIfAborted();
    const admitted = this.queue.add(
      async () => {
        const started = this.now();
        try {
          return await task();
        } finally {
          const took = this.now() - started;
          this.meanServiceMs = this.meanServiceMs === 0 ? took : 0.8 * this.meanServiceMs + 0.2 * took;
        }
      },
      { signal },
    ) as Promise<T>;
    try {
      return await admitted;
    } catch (error) {
      // p-queue rejects a waiting request with its own AbortError; the signal's reason says why it left
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
  }
}
