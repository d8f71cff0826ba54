/** What a queued job is, as stored in queue.db and handed to the replay worker and the HTTP routes. */
import { z } from "zod";

export const JOB_STATUSES = ["queued", "running", "done", "dead", "expired"] as const;
export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;
/** States a job never leaves: only these are purged. */
export const FinishedStatus = z.enum(["done", "dead", "expired"]);
export type FinishedStatus = z.infer<typeof FinishedStatus>;

const json = (text: string): unknown => JSON.parse(text);

export const JobRow = z
  .object({
    id: z.string(),
    idempotency_key: z.string(),
    request: z.string(),
    request_hash: z.string(),
    target: z.string().nullable(),
    status: JobStatus,
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    next_attempt_at: z.number(),
    created_at: z.number(),
    expires_at: z.number(),
    updated_at: z.number(),
    lease: z.string().nullable(),
    result: z.string().nullable(),
    error: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .transform((r) => ({
    id: r.id,
    idempotencyKey: r.idempotency_key,
    request: json(r.request),
    target: r.target,
    status: r.status,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    updatedAt: r.updated_at,
    lease: r.lease,
    /** The cloud's answer, once done (JSON). */
    result: r.result === null ? null : json(r.result),
    error: r.error,
    reason: r.reason,
  }));
export type Job = z.output<typeof JobRow>;
/** A job this process holds: only the holder of the lease may record its outcome. */
export type ClaimedJob = Job & { status: "running"; lease: string };

const JOB_EVENTS = ["enqueued", "claimed", "retry", "done", "dead", "expired", "recovered"] as const;

export const JobEventRow = z
  .object({
    seq: z.number().int(),
    job_id: z.string(),
    at: z.number(),
    attempt: z.number().int(),
    event: z.enum(JOB_EVENTS),
    detail: z.string().nullable(),
  })
  .transform((r) => ({ seq: r.seq, jobId: r.job_id, at: r.at, attempt: r.attempt, event: r.event, detail: r.detail }));
export type JobEvent = z.output<typeof JobEventRow>;

export const EnqueueInput = z.object({
  /** The client's Idempotency-Key; a random one when absent. */
  idempotencyKey: z.string().min(1).max(255).optional(),
  request: z.json(),
  /** The cloud route the request is for. */
  target: z.string().min(1).max(200).optional(),
  ttlMs: z.number().int().positive(),
  maxAttempts: z.number().int().min(1).max(1000),
});
/** `request` is any JSON value, checked when the job is written (a parsed request body arrives as unknown). */
export type EnqueueInput = Omit<z.input<typeof EnqueueInput>, "request"> & { request: unknown };

export const ListJobs = z.object({
  status: JobStatus.optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  /** The id of the last job of the previous page: the page holds the jobs created before it. */
  after: z.string().optional(),
});
export type ListJobs = z.input<typeof ListJobs>;
