/**
 * Whether the cloud is reachable, from what callers observe and from probes. Consecutive connection-level
 * failures (refused, reset, DNS, timeout: the caller tells those from the cloud's own error answers) flip it
 * offline; any answer from the cloud flips it online. While offline it probes every probeIntervalMs, and a
 * probe that succeeds flips it online. Emits `change` with the new state.
 */
import { EventEmitter } from "node:events";
import { realTimers, type Timers } from "./timers.js";

export interface ConnectivityOptions {
  /** Resolves true when the cloud answers; false, a rejection or a timeout is a failed probe. */
  probe: (signal: AbortSignal) => Promise<boolean>;
  failuresToOffline?: number;
  probeIntervalMs?: number;
  /** A probe still pending after this long has failed, and its signal aborts. Defaults to probeIntervalMs. */
  probeTimeoutMs?: number;
  /** The state before anything is observed; starting offline probes at once. */
  online?: boolean;
  timers?: Timers;
}

export class ConnectivityWatcher extends EventEmitter<{ change: [online: boolean] }> {
  private state: boolean;
  private failures = 0;
  private stopped = false;
  private timer: unknown;
  private probing: AbortController | undefined;
  private readonly probe: ConnectivityOptions["probe"];
  private readonly failuresToOffline: number;
  private readonly probeIntervalMs: number;
  private readonly probeTimeoutMs: number;
  private readonly timers: Timers;

  constructor(options: ConnectivityOptions) {
    super();
    this.probe = options.probe;
    this.failuresToOffline = options.failuresToOffline ?? 1;
    this.probeIntervalMs = options.probeIntervalMs ?? 5000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? this.probeIntervalMs;
    this.timers = options.timers ?? realTimers;
    this.state = options.online ?? true;
    if (!this.state) this.scheduleProbe(0);
  }

  get online(): boolean {
    return this.state;
  }

  /** A connection-level failure: the request did not get an answer from the cloud. */
  reportFailure(): void {
    if (this.state && ++this.failures >= this.failuresToOffline) this.set(false);
  }

  /** The cloud answered (an error answer counts: it is reachable). */
  reportSuccess(): void {
    this.failures = 0;
    this.set(true);
  }

  stop(): void {
    this.stopped = true;
    this.cancelProbing();
  }

  private set(online: boolean): void {
    if (online === this.state) return;
    this.state = online;
    this.failures = 0;
    this.cancelProbing();
    if (!online) this.scheduleProbe(this.probeIntervalMs);
    this.emit("change", online);
  }

  private scheduleProbe(ms: number): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => void this.runProbe(), ms);
  }

  private cancelProbing(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.probing?.abort(new Error("probe no longer needed"));
    this.probing = undefined;
  }

  private async runProbe(): Promise<void> {
    this.timer = undefined;
    const probing = new AbortController();
    this.probing = probing;
    const timeout = this.timers.setTimeout(() => probing.abort(new Error("probe timed out")), this.probeTimeoutMs);
    // a probe that ignores its signal cannot stall the watcher: the abort settles the race
    const abandoned = new Promise<false>((resolve) => probing.signal.addEventListener("abort", () => resolve(false), { once: true }));
    let ok = false;
    try {
      ok = (await Promise.race([this.probe(probing.signal), abandoned])) === true;
    } catch {
      ok = false;
    }
    this.timers.clearTimeout(timeout);
    if (this.probing !== probing) return; // stopped, or an observed success flipped the state meanwhile
    this.probing = undefined;
    if (ok) this.set(true);
    else this.scheduleProbe(this.probeIntervalMs);
  }
}
