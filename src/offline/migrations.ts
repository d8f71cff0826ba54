/** The offline queue's database (queue.db), version by version (applied by src/db/open.ts). */
export const OFFLINE_MIGRATIONS = [
  `
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,          -- JSON
    request_hash TEXT NOT NULL,     -- sha256 hex of the canonical target and request: a reused key with another body is refused
    target TEXT,                    -- cloud route name
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead', 'expired')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    lease TEXT,                     -- random token of the current claim; NULL unless running
    result TEXT,                    -- JSON, once done
    error TEXT,                     -- the last failure
    reason TEXT                     -- why a job is dead or expired
  );
  CREATE INDEX jobs_due ON jobs (next_attempt_at) WHERE status = 'queued';
  CREATE INDEX jobs_expiry ON jobs (expires_at) WHERE status = 'queued';
  CREATE INDEX jobs_listing ON jobs (status, created_at, id);
  CREATE INDEX jobs_created ON jobs (created_at, id);
  CREATE INDEX jobs_age ON jobs (status, updated_at);

  CREATE TABLE job_events (
    seq INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('enqueued', 'claimed', 'retry', 'done', 'dead', 'expired', 'recovered')),
    detail TEXT
  );
  CREATE INDEX job_events_job ON job_events (job_id, seq);
  -- a result is recorded once: the database itself refuses a second 'done' for a job
  CREATE UNIQUE INDEX job_events_one_done ON job_events (job_id) WHERE event = 'done';
  CREATE TRIGGER job_events_append_only BEFORE UPDATE ON job_events BEGIN
    SELECT RAISE (ABORT, 'job events are append-only');
  END;
  `,
];
