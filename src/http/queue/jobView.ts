/** A job of the offline queue as the API shows it (times in Unix seconds, as OpenAI's batch objects have them). */
import type { Job } from "../../offline/job.js";

const seconds = (ms: number) => Math.floor(ms / 1000);

export function jobView(job: Job) {
  const request = job.request as { route?: string };
  return {
    id: job.id,
    object: "queue.job",
    model: request.route ?? job.target,
    status: job.status,
    idempotency_key: job.idempotencyKey,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    created_at: seconds(job.createdAt),
    expires_at: seconds(job.expiresAt),
    next_attempt_at: job.status === "queued" ? seconds(job.nextAttemptAt) : null,
    /** The chat.completion, once done. */
    result: job.result,
    error: job.error,
    reason: job.reason,
  };
}
