/** The one error family of cloud calls, and the policy of which of them may be retried at the same provider. */

export type CloudErrorKind = "connect" | "timeout" | "status" | "stream_cut" | "protocol" | "aborted" | "breaker_open";

export interface CloudErrorDetails {
  status?: number;
  retryAfterMs?: number;
  /** The call failed before its answer began (no response, or an error status): redoing it cannot duplicate output. */
  beforeFirstByte: boolean;
  cause?: unknown;
}

export class CloudError extends Error {
  override name = "CloudError";
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly beforeFirstByte: boolean;

  constructor(
    readonly kind: CloudErrorKind,
    readonly provider: string,
    message: string,
    { status, retryAfterMs, beforeFirstByte, cause }: CloudErrorDetails,
  ) {
    super(`${provider}: ${message}`, cause === undefined ? undefined : { cause });
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.beforeFirstByte = beforeFirstByte;
  }
}

/**
 * Worth another try at the same provider: the connection failed, or the provider answered 429 or 5xx (529 is
 * Anthropic's "overloaded"), before any of the answer arrived. Timeouts and cut streams are not: the provider is slow
 * or unwell right now, and the caller does better falling back to the next one. (A connection reset before the
 * response may come after the server took the request: an Idempotency-Key keeps its retry from running it twice.)
 */
export function isRetryable(error: unknown): error is CloudError {
  if (!(error instanceof CloudError) || !error.beforeFirstByte) return false;
  if (error.kind === "connect") return true;
  return error.kind === "status" && error.status !== undefined && (error.status === 429 || error.status >= 500);
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date (relative to `now`); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
