/** A clock and timers that move only when a test advances them: `now` for stores, the rest as Timers. */
import type { Timers } from "../../src/offline/timers.js";

export class FakeClock implements Timers {
  private time = 1_700_000_000_000;
  private nextHandle = 0;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  readonly now = () => this.time;

  readonly setTimeout = (callback: () => void, ms: number): unknown => {
    const handle = ++this.nextHandle;
    this.pending.set(handle, { at: this.time + Math.max(0, ms), callback });
    return handle;
  };

  readonly clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  /** Moves time forward, running each timer that falls due, in order, at its own moment. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const [handle, next] = [...this.pending].filter(([, t]) => t.at <= end).sort(([ha, a], [hb, b]) => a.at - b.at || ha - hb)[0] ?? [];
      if (handle === undefined || next === undefined) break;
      this.pending.delete(handle);
      this.time = next.at;
      next.callback();
    }
    this.time = end;
  }

  /** Timers waiting to fire. */
  get timers(): number {
    return this.pending.size;
  }
}

/** Lets promise callbacks and I/O callbacks already queued run. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
