/**
 * Cascade mode: the device answers first, and the mean log-probability of its first tokens decides whether the
 * answer stands. Below the threshold the local generation is aborted with a CascadeEscalation and the request
 * goes to the cloud; at or above it the held answer is released to the client.
 */
import type { CascadeConfig } from "./schemas.js";

export class CascadeEscalation extends Error {
  override name = "CascadeEscalation";
  constructor(readonly meanLogprob: number, readonly threshold: number) {
    super(`local confidence too low: mean log-probability ${meanLogprob.toFixed(2)} < ${threshold}`);
  }
}

export class ConfidenceProbe {
  private readonly controller = new AbortController();
  private sum = 0;
  private count = 0;
  private decided = false;
  /** Mean log-probability of the probed tokens, once decided. */
  meanLogprob?: number;

  constructor(
    private readonly config: CascadeConfig,
    /** Lets the held answer through to the client. */
    private readonly release: () => void,
  ) {}

  /** Aborted with a CascadeEscalation when the probe escalates. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get escalated(): boolean {
    return this.controller.signal.aborted;
  }

  /** One generated token's log-probability, as the sampler saw it. */
  observe(logprob: number): void {
    if (this.decided) return;
    this.sum += logprob;
    if (++this.count >= this.config.tokens) this.decide();
  }

  /** The generation ended: decide on the tokens it made if they were fewer than the probe wanted. */
  settle(): void {
    if (!this.decided) this.decide();
    if (this.escalated) throw this.controller.signal.reason;
  }

  private decide(): void {
    this.decided = true;
    this.meanLogprob = this.count ? this.sum / this.count : 0;
    if (this.meanLogprob < this.config.minMeanLogprob) this.controller.abort(new CascadeEscalation(this.meanLogprob, this.config.minMeanLogprob));
    else this.release();
  }
}
