/**
 * Cloud-bound chat requests in the offline queue: what a job holds (the request as it may leave the device,
 * already redacted), how it is deferred, and how the replay worker sends it — the route's cloud targets in order,
 * with the job's idempotency key, the answer recorded as a chat.completion object.
 */
import { z } from "zod";
import { CloudChatRequest, type CloudChatResult } from "../cloud/types.js";
import type { FailureKind } from "../offline/replayWorker.js";
import type { ClaimedJob } from "../offline/job.js";
import { CloudChainError, firstToAnswer, noTargetReached, type ChainObserver } from "./cloudChain.js";
import type { Router } from "./router.js";
import type { TokenBudget } from "./tokenBudget.js";

export const QueuedChat = z.object({
  /** The requested model name: its route's cloud targets answer. */
  route: z.string().min(1),
  /** Whose cloud token budget pays. */
  keyId: z.string().min(1),
  request: CloudChatRequest,
});
export type QueuedChat = z.infer<typeof QueuedChat>;

/** Sends a queued job through its route's cloud targets; `record` turns the answer into the stored result. */
export function queuedChatSender(router: Router, observer: ChainObserver, record: (answer: CloudChatResult) => unknown) {
  return async (job: ClaimedJob, signal: AbortSignal): Promise<unknown> => {
    const queued = QueuedChat.parse(job.request);
    const targets = router.routeFor(queued.route)?.cloud ?? [];
    const { value } = await firstToAnswer(targets, router.providers, (p) => p.chat(queued.request, { signal, idempotencyKey: job.idempotencyKey }), observer, signal);
    return record(value);
  };
}

const Usage = z.object({ usage: z.object({ total_tokens: z.number().int().min(0) }) });

/** Charges a recorded result's tokens to its key (and counts them): after the result is recorded, so a job resent after a crash is charged once. */
export function chargeQueuedChat(budget: TokenBudget, count: (tokens: number) => void) {
  return (job: ClaimedJob, result: unknown): void => {
    const usage = Usage.safeParse(result);
    if (!usage.success) return;
    budget.record(QueuedChat.parse(job.request).keyId, usage.data.usage.total_tokens);
    count(usage.data.usage.total_tokens);
  };
}

/**
 * How a failed send is retried: no target reachable (connection) or a target's transient trouble (retryable)
 * waits and tries again; an answer that will not change (a 4xx other than 429, a bad request, no target) is
 * dead-lettered.
 */
export function classifyQueuedFailure(error: unknown): FailureKind {
  if (error instanceof z.ZodError) return "permanent";
  if (!(error instanceof CloudChainError)) return "retryable";
  const kinds = error.failures.map((f) => f.kind);
  if (kinds.length === 0) return "permanent"; // the route has no cloud target (any more)
  // open breakers alone say nothing new about the network: wait for them (the error carries how long)
  if (kinds.every((k) => k === "breaker_open")) return "retryable";
  if (noTargetReached(error)) return "connection";
  const permanent = error.failures.every((f) => f.kind === "status" && f.status !== undefined && f.status < 500 && f.status !== 429 && f.status !== 408);
  return permanent ? "permanent" : "retryable";
}
