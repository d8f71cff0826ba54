/** Refusals of the scheduler: no room to wait, or no time left. */
export class QueueFullError extends Error {
  override name = "QueueFullError";
  constructor(message: string, readonly retryAfterMs: number, readonly code: "queue_full" | "deadline_unreachable" = "queue_full") {
    super(message);
  }
}

export class DeadlineExceededError extends Error {
  override name = "DeadlineExceededError";
  constructor(readonly deadlineMs: number) {
    super(`The request's deadline of ${deadlineMs} ms passed before it finished; generation was stopped`);
  }
}
