/**
 * A circuit breaker per provider: after `failureThreshold` consecutive failures it opens and calls fail fast, without
 * touching the network, for `openMs`; then it is half-open and lets `halfOpenMaxCalls` trial calls through. A trial's
 * success closes it, a trial's failure opens it again.
 */
import { CloudError } from "./errors.js";
import { onStreamEnd } from "./streamEnd.js";
import type { CallOptions, CloudEvent, CloudProvider, ProviderConfig } from "./types.js";

export type BreakerState = "closed" | "open" | "half-open";
/** "ignored": the call says nothing about the provider's health (aborted, refused as the caller's fault, abandoned). */
export type CallOutcome = "success" | "failure" | "ignored";
/** Leave to make one call; report its outcome once. */
export type Permit = (outcome: CallOutcome) => void;
export type StateListener = (state: BreakerState, previous: BreakerState) => void;

export type CircuitBreakerOptions = ProviderConfig["breaker"] & { now?: () => number };

export class CircuitBreaker {
  private current: BreakerState = "closed";
  /** Bumped on every change of state, so an outcome reported after one is not counted against the next. */
  private epoch = 0;
  private failures = 0;
  private trials = 0;
  private openedAt = 0;
  private readonly now: () => number;
  private readonly listeners = new Set<StateListener>();

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.current === "open" && this.now() - this.openedAt >= this.options.openMs) this.move("half-open");
    return this.current;
  }

  /** Whether a call made now would be let through (closed, or half-open with a trial call to spare). */
  get admitting(): boolean {
    const state = this.state;
    return state === "closed" || (state === "half-open" && this.trials < this.options.halfOpenMaxCalls);
  }

  /** Milliseconds until an open breaker lets trial calls through; 0 when it is not open. */
  get retryInMs(): number {
    return this.state === "open" ? this.openedAt + this.options.openMs - this.now() : 0;
  }

  /** Calls `listener` on every change of state; returns the function that stops it. */
  onStateChange(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A permit for one call, or undefined when the call must fail fast. */
  tryAcquire(): Permit | undefined {
    const state = this.state;
    if (state === "open" || (state === "half-open" && this.trials >= this.options.halfOpenMaxCalls)) return undefined;
    if (state === "half-open") this.trials++;
    const epoch = this.epoch;
    let settled = false;
    return (outcome) => {
      if (settled || epoch !== this.epoch) return;
      settled = true;
      if (state === "half-open") {
        if (outcome === "ignored") this.trials--;
        else this.move(outcome === "success" ? "closed" : "open");
      } else if (outcome === "success") {
        this.failures = 0;
      } else if (outcome === "failure" && ++this.failures >= this.options.failureThreshold) {
        this.move("open");
      }
    };
  }

  private move(to: BreakerState): void {
    const previous = this.current;
    this.current = to;
    this.epoch++;
    this.failures = 0;
    this.trials = 0;
    if (to === "open") this.openedAt = this.now();
    for (const listener of this.listeners) listener(to, previous);
  }
}

/** Failures that say the provider is unwell: connection, timeout, 429 and 5xx, cut or garbled streams; not 4xx, not aborts. */
export function countsAsFailure(error: unknown): boolean {
  if (!(error instanceof CloudError)) return true;
  if (error.kind === "aborted" || error.kind === "breaker_open") return false;
  return error.kind !== "status" || error.status === 429 || (error.status ?? 0) >= 500;
}

const outcomeOf = (error: unknown): CallOutcome => (countsAsFailure(error) ? "failure" : "ignored");

/** The provider behind a breaker; a stream counts as a success only once it completes. Probes pass straight through. */
export function withBreaker(provider: CloudProvider, breaker: CircuitBreaker): CloudProvider {
  const admit = (): Permit => {
    const permit = breaker.tryAcquire();
    if (permit) return permit;
    const retryInMs = breaker.retryInMs;
    const why = retryInMs > 0 ? `open after repeated failures; calls fail fast for ${retryInMs} ms more` : "half-open; its trial calls are under way";
    throw new CloudError("breaker_open", provider.id, `circuit breaker ${why}`, { beforeFirstByte: true, retryAfterMs: retryInMs });
  };
  return {
    id: provider.id,
    kind: provider.kind,
    model: provider.model,
    async chat(req, opts: CallOptions = {}) {
      const permit = admit();
      try {
        const result = await provider.chat(req, opts);
        permit("success");
        return result;
      } catch (error) {
        permit(outcomeOf(error));
        throw error;
      }
    },
    async stream(req, opts: CallOptions = {}) {
      const permit = admit();
      let events: AsyncIterable<CloudEvent>;
      try {
        events = await provider.stream(req, opts);
      } catch (error) {
        permit(outcomeOf(error));
        throw error;
      }
      return onStreamEnd(events, (end) => permit(end.kind === "completed" ? "success" : end.kind === "failed" ? outcomeOf(end.error) : "ignored"));
    },
    probe: (signal) => provider.probe(signal),
  };
}
