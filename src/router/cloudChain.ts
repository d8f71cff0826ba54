/**
 * The fallback chain: a route's cloud targets tried in order until one answers. A failure before the answer
 * starts moves on to the next target; what each target did is reported (headers, metrics). Any answer tells the
 * connectivity watcher the cloud is reachable; only a chain that reached none of its targets tells it the cloud may
 * be gone (one provider down while the next answers is a fallback, not the network going away).
 */
import { CloudError } from "../cloud/errors.js";
import type { ConfiguredProvider } from "../cloud/providers.js";
import type { CloudProvider } from "../cloud/types.js";

export interface ChainFailure {
  target: string;
  kind: string;
  message: string;
  status?: number;
  retryAfterMs?: number;
}

export class CloudChainError extends Error {
  override name = "CloudChainError";
  /** The longest wait a target asked for (429 Retry-After), for whoever tries again later. */
  readonly retryAfterMs?: number;
  constructor(readonly failures: ChainFailure[]) {
    super(`no cloud target answered (${failures.map((f) => `${f.target}: ${f.kind}`).join(", ") || "none available"})`);
    const waits = failures.flatMap((f) => (f.retryAfterMs === undefined ? [] : [f.retryAfterMs]));
    if (waits.length) this.retryAfterMs = Math.max(...waits);
  }
}

/** Every target was unreachable or fast-failed by its open breaker: no answer could have come from the cloud. */
export const noTargetReached = (error: CloudChainError) => error.failures.length > 0 && error.failures.every((f) => f.kind === "connect" || f.kind === "breaker_open");

export interface ChainObserver {
  /** One call's outcome: "ok" or the error kind. */
  onCall?(target: string, outcome: string): void;
  /** The cloud answered (an error status counts) or could not be reached. */
  onReachable?(reachable: boolean): void;
}

/** The error kind that means the provider could not be reached at all (a slow or failing server was reached). */
const UNREACHABLE = new Set(["connect"]);

export async function firstToAnswer<T>(
  targets: readonly string[],
  providers: ReadonlyMap<string, ConfiguredProvider>,
  call: (provider: CloudProvider) => Promise<T>,
  observer: ChainObserver = {},
  signal?: AbortSignal,
): Promise<{ value: T; target: string; failures: ChainFailure[] }> {
  const failures: ChainFailure[] = [];
  for (const target of targets) {
    const configured = providers.get(target);
    if (!configured) continue; // the config checks route targets against the providers
    try {
      const value = await call(configured.provider);
      observer.onCall?.(target, "ok");
      observer.onReachable?.(true);
      return { value, target, failures };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!(error instanceof CloudError)) throw error;
      failures.push({ target, kind: error.kind, message: error.message, status: error.status, retryAfterMs: error.retryAfterMs });
      observer.onCall?.(target, error.kind);
      if (error.kind !== "breaker_open" && !UNREACHABLE.has(error.kind)) observer.onReachable?.(true);
    }
  }
  if (failures.some((f) => UNREACHABLE.has(f.kind)) && failures.every((f) => UNREACHABLE.has(f.kind) || f.kind === "breaker_open")) observer.onReachable?.(false);
  throw new CloudChainError(failures);
}
