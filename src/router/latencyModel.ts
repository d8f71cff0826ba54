/**
 * Predicts how long an answer takes from live measurements: exponentially weighted moving averages of the fixed
 * cost, the time per prompt token and the time per generated token, one set per key — a local model on its device
 * at a given number of busy slots (sequences decoded together are slower each), or a cloud provider. A prediction
 * uses the first of its keys that has been measured (the load level's, then the model's overall), else the prior.
 */

export interface Rates {
  /** Paid once per request: local overhead, or a cloud provider's time to first byte. */
  fixedMs: number;
  perPromptTokenMs: number;
  perOutputTokenMs: number;
}

export interface Observation {
  fixedMs?: number;
  promptTokens: number;
  promptMs: number;
  outputTokens: number;
  outputMs: number;
}

export interface Prediction {
  ms: number;
  waitMs: number;
  promptMs: number;
  outputMs: number;
}

/** Weight of the newest observation: about the last ten requests count. */
const ALPHA = 0.2;

const ewma = (mean: number, x: number) => mean + ALPHA * (x - mean);

export class LatencyModel {
  private readonly rates = new Map<string, Rates & { observations: number }>();

  constructor(private readonly prior: (key: string) => Rates) {}

  /** Records one finished answer; phases with too few tokens to time are skipped. The first measurement replaces the prior. */
  observe(key: string, o: Observation): void {
    const r = this.rates.get(key) ?? { ...this.prior(key), observations: 0 };
    const update = r.observations === 0 ? (_: number, x: number) => x : ewma;
    if (o.fixedMs !== undefined) r.fixedMs = update(r.fixedMs, o.fixedMs);
    if (o.promptTokens > 0 && o.promptMs > 0) r.perPromptTokenMs = update(r.perPromptTokenMs, o.promptMs / o.promptTokens);
    if (o.outputTokens > 1 && o.outputMs > 0) r.perOutputTokenMs = update(r.perOutputTokenMs, o.outputMs / (o.outputTokens - 1));
    r.observations++;
    this.rates.set(key, r);
  }

  predict(keys: string | readonly string[], request: { promptTokens: number; outputTokens: number; waitMs?: number }): Prediction {
    const list = typeof keys === "string" ? [keys] : keys;
    const r = list.map((k) => this.rates.get(k)).find((x) => x !== undefined) ?? this.prior(list[0]!);
    const waitMs = request.waitMs ?? 0;
    const promptMs = r.fixedMs + request.promptTokens * r.perPromptTokenMs;
    const outputMs = request.outputTokens * r.perOutputTokenMs;
    return { ms: waitMs + promptMs + outputMs, waitMs, promptMs, outputMs };
  }

  /** Answers measured so far under this key (0: the prediction is the prior). */
  observations(key: string): number {
    return this.rates.get(key)?.observations ?? 0;
  }

  snapshot(): Record<string, Rates & { observations: number }> {
    return Object.fromEntries(this.rates);
  }
}
