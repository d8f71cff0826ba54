/** A request's signal: the client's and the server's, plus its own deadline if it has one. */
import type { IncomingMessage } from "node:http";
import { DeadlineExceededError } from "../scheduler/errors.js";
import { apiErrors } from "./errors.js";

export const DEADLINE_HEADER = "x-edged-deadline-ms";

/** The deadline from the header or the body field (the header wins), else the configured default. */
export function deadlineOf(req: IncomingMessage, bodyField: number | undefined, fallbackMs: number): number | undefined {
  const header = req.headers[DEADLINE_HEADER];
  if (typeof header === "string") {
    const ms = Number(header);
    if (!Number.isInteger(ms) || ms <= 0) throw apiErrors.invalidParam(DEADLINE_HEADER, `${DEADLINE_HEADER} must be a positive integer of milliseconds`);
    return ms;
  }
  return bodyField ?? (fallbackMs > 0 ? fallbackMs : undefined);
}

export function withDeadline(signal: AbortSignal, deadlineMs: number | undefined, elapsedMs: number): { signal: AbortSignal; clear(): void } {
  if (deadlineMs === undefined) return { signal, clear: () => undefined };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineExceededError(deadlineMs)), Math.max(0, deadlineMs - elapsedMs));
  return { signal: AbortSignal.any([signal, controller.signal]), clear: () => clearTimeout(timer) };
}
