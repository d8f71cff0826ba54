/**
 * What keeps the data directory within its bounds on a box nobody watches: chores run at an interval, each
 * removing what its retention no longer keeps (finished offline jobs, stored responses, spent budget hours,
 * expired memories) and counting it in `edged_purged_total{what}`. A chore a full disk refuses is tried again at
 * the next interval; the daemon never stops for one.
 */
import type { Counter } from "./telemetry/metrics.js";

export interface Chore {
  /** The metric label and the log's noun, e.g. "offline_jobs". */
  what: string;
  /** Removes what is past its retention; returns how many rows went. */
  run(): number;
}

export interface HousekeepingOptions {
  intervalMs: number;
  purged: Counter;
  log: (message: string) => void;
  /** A storage error made readable (a full disk names the directory). */
  explain: (error: unknown) => unknown;
}

export class Housekeeping {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly chores: readonly Chore[],
    private readonly options: HousekeepingOptions,
  ) {
    this.timer = setInterval(() => this.runAll(), options.intervalMs);
    this.timer.unref();
  }

  /** Runs every chore once, now; returns how many rows each removed (a failed chore is logged and left out). */
  runAll(): Record<string, number> {
    const removed: Record<string, number> = {};
    for (const chore of this.chores) {
      try {
        const n = (removed[chore.what] = chore.run());
        if (n > 0) {
          this.options.purged.inc({ what: chore.what }, n);
          this.options.log(`housekeeping: ${n} ${chore.what.replace(/_/g, " ")} past retention removed`);
        }
      } catch (error) {
        this.options.log(`housekeeping: ${chore.what} failed: ${(this.options.explain(error) as Error).message}`);
      }
    }
    return removed;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
