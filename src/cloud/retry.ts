/**
 * Retries at the same provider, for the failures worth it (see isRetryable): after exactly the Retry-After the server
 * asked for, or else a full-jitter exponential backoff. A stream is retried only until it resolves; once events flow,
 * a failure is the caller's to handle. Probes are not retried: they exist to see the provider's state as it is.
 */
import { setTimeout as delay } from "node:timers/promises";
import { CloudError, isRetryable } from "./errors.js";
import type { CallOptions, CloudProvider, ProviderConfig } from "./types.js";

export type RetryPolicy = ProviderConfig["retry"];
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RetryDeps {
  sleep?: Sleep;
  /** In [0, 1): the jitter. */
  random?: () => number;
}

const sleepFor: Sleep = (ms, signal) => delay(ms, undefined, { signal });

/** How long to wait before retry number `attempt + 1`; undefined when the error must surface instead. */
export function retryDelayMs(error: unknown, attempt: number, policy: RetryPolicy, random: () => number): number | undefined {
  if (attempt >= policy.maxRetries || !isRetryable(error)) return undefined;
  // a server asking for more patience than we allow is better left for another provider
  if (error.retryAfterMs !== undefined) return error.retryAfterMs <= policy.maxDelayMs ? error.retryAfterMs : undefined;
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
}

export function withRetry(provider: CloudProvider, policy: RetryPolicy, { sleep = sleepFor, random = Math.random }: RetryDeps = {}): CloudProvider {
  async function attempts<T>(call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const wait = signal?.aborted ? undefined : retryDelayMs(error, attempt, policy, random);
        if (wait === undefined) throw error;
        try {
          await sleep(wait, signal);
          signal?.throwIfAborted();
        } catch (reason) {
          throw new CloudError("aborted", provider.id, "the call was aborted while waiting to retry", { beforeFirstByte: true, cause: reason });
        }
      }
    }
  }
  return {
    id: provider.id,
    kind: provider.kind,
    model: provider.model,
    chat: (req, opts: CallOptions = {}) => attempts(() => provider.chat(req, opts), opts.signal),
    stream: (req, opts: CallOptions = {}) => attempts(() => provider.stream(req, opts), opts.signal),
    probe: (signal) => provider.probe(signal),
  };
}
