/**
 * The offline queue on SQLite. A job is committed before it is acknowledged; a worker claims it under a fresh
 * lease, and only the holder of the current lease can record its outcome, so a stale claim (from before a crash
 * or a recovery) writes nothing. Every change appends an event in the same transaction; the schema allows one
 * 'done' event per job. A job is dead-lettered here, in the store, when its last allowed attempt ends without a
 * result: retry() on that attempt, or recoverInterrupted() when the process died during it.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/open.js";
import { EnqueueInput, FinishedStatus, JOB_STATUSES, JobEventRow, JobRow, JobStatus, ListJobs, type ClaimedJob, type Job, type JobEvent } from "./job.js";

/** The idempotency key was used before with another request: OpenAI-style APIs answer 409 or 422. */
export class IdempotencyConflictError extends Error {
  override name = "IdempotencyConflictError";
  constructor(
    readonly idempotencyKey: string,
    readonly jobId: string,
  ) {
    super(`The Idempotency-Key ${JSON.stringify(idempotencyKey)} was already used for job ${jobId} with a different request`);
  }
}

export interface JobStoreOptions {
  now?: () => number;
  newId?: () => string;
}

/** JSON with object keys sorted: the same body written in another field order has the same hash. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const attemptsText = (n: number) => (n === 1 ? "1 attempt" : `${n} attempts`);
const Moment = z.object({ at: z.number().nullable() });
const StatusCount = z.object({ status: JobStatus, n: z.number().int() });

export class JobStore {
  readonly now: () => number;
  private readonly newId: () => string;
  private readonly q;

  constructor(
    readonly db: Db,
    options: JobStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => `job_${randomBytes(12).toString("base64url")}`);
    this.q = {
      insert: db.prepare(
        "INSERT INTO jobs (id, idempotency_key, request, request_hash, target, status, max_attempts, next_attempt_at, created_at, expires_at, updated_at) VALUES (@id, @key, @request, @hash, @target, 'queued', @maxAttempts, @now, @now, @expiresAt, @now) ON CONFLICT (idempotency_key) DO NOTHING",
      ),
      get: db.prepare<[string], unknown>("SELECT * FROM jobs WHERE id = ?"),
      byKey: db.prepare<[string], unknown>("SELECT * FROM jobs WHERE idempotency_key = ?"),
      hashOf: db.prepare<[string], { request_hash: string }>("SELECT request_hash FROM jobs WHERE idempotency_key = ?"),
      held: db.prepare<[string, string], unknown>("SELECT * FROM jobs WHERE id = ? AND status = 'running' AND lease = ?"),
      claim: db.prepare<[{ now: number; limit: number }], unknown>(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease = lower(hex(randomblob(16))), updated_at = @now WHERE id IN (SELECT id FROM jobs WHERE status = 'queued' AND next_attempt_at <= @now AND expires_at > @now ORDER BY next_attempt_at, created_at LIMIT @limit) RETURNING *",
      ),
      toDone: db.prepare("UPDATE jobs SET status = 'done', result = @result, error = NULL, lease = NULL, updated_at = @now WHERE id = @id"),
      toQueued: db.prepare("UPDATE jobs SET status = 'queued', error = @error, lease = NULL, next_attempt_at = @next, updated_at = @now WHERE id = @id"),
      toDead: db.prepare("UPDATE jobs SET status = 'dead', error = @error, reason = @reason, lease = NULL, updated_at = @now WHERE id = @id"),
      toExpired: db.prepare("UPDATE jobs SET status = 'expired', reason = @reason, updated_at = @now WHERE id = @id"),
      running: db.prepare<[], unknown>("SELECT * FROM jobs WHERE status = 'running'"),
      expiring: db.prepare<[number], unknown>("SELECT * FROM jobs WHERE status = 'queued' AND expires_at <= ?"),
      event: db.prepare("INSERT INTO job_events (job_id, at, attempt, event, detail) VALUES (?, ?, ?, ?, ?)"),
      events: db.prepare<[string], unknown>("SELECT * FROM job_events WHERE job_id = ? ORDER BY seq"),
      list: db.prepare<[{ status: string | null; after: string | null; limit: number }], unknown>(
        "SELECT * FROM jobs WHERE (@status IS NULL OR status = @status) AND (@after IS NULL OR (created_at, id) < (SELECT created_at, id FROM jobs WHERE id = @after)) ORDER BY created_at DESC, id DESC LIMIT @limit",
      ),
      counts: db.prepare<[], unknown>("SELECT status, count(*) AS n FROM jobs GROUP BY status"),
      nextDue: db.prepare<[number], unknown>("SELECT min(next_attempt_at) AS at FROM jobs WHERE status = 'queued' AND expires_at > ?"),
      nextExpiry: db.prepare<[], unknown>("SELECT min(expires_at) AS at FROM jobs WHERE status = 'queued'"),
      purge: db.prepare("DELETE FROM jobs WHERE status = ? AND updated_at <= ?"),
    };
  }

  /** Writes the job, or finds the one its idempotency key already names (created: false). */
  enqueue(input: EnqueueInput): { job: Job; created: boolean } {
    const e = EnqueueInput.parse(input);
    const key = e.idempotencyKey ?? randomUUID();
    const hash = createHash("sha256")
      .update(canonicalJson({ target: e.target ?? null, request: e.request }))
      .digest("hex");
    return this.db
      .transaction(() => {
        const now = this.now();
        const id = this.newId();
        const { changes } = this.q.insert.run({ id, key, request: JSON.stringify(e.request), hash, target: e.target ?? null, maxAttempts: e.maxAttempts, now, expiresAt: now + e.ttlMs });
        const job = JobRow.parse(this.q.byKey.get(key));
        if (changes === 1) {
          this.record(id, 0, "enqueued", null, now);
          return { job, created: true };
        }
        if (this.q.hashOf.get(key)!.request_hash !== hash) throw new IdempotencyConflictError(key, job.id);
        return { job, created: false };
      })
      .immediate();
  }

  /** Moves up to `limit` due jobs to running, each under a new lease; the attempt counts from here. */
  claimDue(limit: number): ClaimedJob[] {
    if (limit < 1) return []; // SQLite reads a negative LIMIT as none
    return this.db
      .transaction(() => {
        const now = this.now();
        const jobs = this.q.claim.all({ now, limit }).map((row) => JobRow.parse(row) as ClaimedJob);
        for (const job of jobs) this.record(job.id, job.attempts, "claimed", null, now);
        return jobs.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt);
      })
      .immediate();
  }

  /** Records the result; false (and nothing written) unless `lease` is the job's current claim. */
  complete(id: string, lease: string, result: unknown): boolean {
    return this.settle(id, lease, (job, now) => {
      this.q.toDone.run({ id, result: JSON.stringify(result ?? null), now });
      this.record(id, job.attempts, "done", null, now);
    });
  }

  /** Queues the job again for `nextAttemptAt`, or dead-letters it when that was its last allowed attempt. */
  retry(id: string, lease: string, error: string, nextAttemptAt: number): boolean {
    return this.settle(id, lease, (job, now) => {
      if (job.attempts >= job.maxAttempts) return this.bury(job, error, `gave up after ${attemptsText(job.attempts)}`, now);
      this.q.toQueued.run({ id, error, next: nextAttemptAt, now });
      this.record(id, job.attempts, "retry", error, now);
    });
  }

  /** Dead-letters the job at once: the failure would not go away by retrying. */
  deadLetter(id: string, lease: string, error: string): boolean {
    return this.settle(id, lease, (job, now) => this.bury(job, error, "not retryable", now));
  }

  /** Queued jobs past their TTL become expired, with the reason recorded. Returns how many. */
  expire(): number {
    return this.db
      .transaction(() => {
        const now = this.now();
        const jobs = this.q.expiring.all(now).map((row) => JobRow.parse(row));
        for (const job of jobs) {
          const reason = `ttl elapsed after ${attemptsText(job.attempts)}`;
          this.q.toExpired.run({ id: job.id, reason, now });
          this.record(job.id, job.attempts, "expired", reason, now);
        }
        return jobs.length;
      })
      .immediate();
  }

  /**
   * At start-up, before any claim: running jobs were cut off when their process died. They are queued again,
   * due now, with the interrupted attempt counted (the cloud may have seen it); a job interrupted on its last
   * attempt is dead, so a request that kills the process cannot do so forever. Returns how many were found.
   */
  recoverInterrupted(): number {
    return this.db
      .transaction(() => {
        const now = this.now();
        const jobs = this.q.running.all().map((row) => JobRow.parse(row));
        for (const job of jobs) {
          if (job.attempts >= job.maxAttempts) this.bury(job, "the attempt was interrupted", "interrupted on its last attempt", now);
          else {
            // due when it was first due: it goes before the backlog that waited behind it, not after
            this.q.toQueued.run({ id: job.id, error: job.error, next: Math.min(job.nextAttemptAt, now), now });
            this.record(job.id, job.attempts, "recovered", null, now);
          }
        }
        return jobs.length;
      })
      .immediate();
  }

  get(id: string): Job | undefined {
    const row = this.q.get.get(id);
    return row === undefined ? undefined : JobRow.parse(row);
  }

  byKey(idempotencyKey: string): Job | undefined {
    const row = this.q.byKey.get(idempotencyKey);
    return row === undefined ? undefined : JobRow.parse(row);
  }

  /** Newest first; `after` is the last id of the previous page. */
  list(filter: ListJobs = {}): Job[] {
    const f = ListJobs.parse(filter);
    return this.q.list.all({ status: f.status ?? null, after: f.after ?? null, limit: f.limit }).map((row) => JobRow.parse(row));
  }

  counts(): Record<JobStatus, number> {
    const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
    for (const row of this.q.counts.all()) {
      const { status, n } = StatusCount.parse(row);
      counts[status] = n;
    }
    return counts;
  }

  events(id: string): JobEvent[] {
    return this.q.events.all(id).map((row) => JobEventRow.parse(row));
  }

  /** When the earliest queued job that has not expired may be sent (null: none). */
  nextDueAt(): number | null {
    return Moment.parse(this.q.nextDue.get(this.now())).at;
  }

  /** When the earliest queued job expires (null: none). */
  nextExpiryAt(): number | null {
    return Moment.parse(this.q.nextExpiry.get()).at;
  }

  /** Deletes finished jobs (and their events) last changed at least `olderThanMs` ago. Returns how many. */
  purge({ status, olderThanMs }: { status: FinishedStatus; olderThanMs: number }): number {
    return this.q.purge.run(FinishedStatus.parse(status), this.now() - olderThanMs).changes;
  }

  private settle(id: string, lease: string, apply: (job: ClaimedJob, now: number) => void): boolean {
    return this.db
      .transaction(() => {
        const row = this.q.held.get(id, lease);
        if (row === undefined) return false;
        apply(JobRow.parse(row) as ClaimedJob, this.now());
        return true;
      })
      .immediate();
  }

  private bury(job: Job, error: string, reason: string, now: number): void {
    this.q.toDead.run({ id: job.id, error, reason, now });
    this.record(job.id, job.attempts, "dead", error, now);
  }

  private record(jobId: string, attempt: number, event: JobEvent["event"], detail: string | null, at: number): void {
    this.q.event.run(jobId, at, attempt, event, detail);
  }
}
