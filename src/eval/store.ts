/**
 * Evaluation runs in DATA_DIR/eval.db: each run (suite, its hash, model, when) and each case's checks with the
 * answer, latency and tokens, so a later run can be compared with it (`--baseline RUN`).
 */
import { openDatabase, type Db } from "../db/open.js";
import type { CaseResult } from "./runner.js";
import type { CheckType } from "./suite.js";

export const EVAL_MIGRATIONS = [
  `
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    suite TEXT NOT NULL,          -- the suite's path as given
    suite_sha256 TEXT NOT NULL,   -- of its text: runs of different suites are not compared
    model TEXT NOT NULL,
    started_at INTEGER NOT NULL,  -- ms since the epoch
    finished_at INTEGER
  );
  CREATE TABLE results (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    case_id TEXT NOT NULL,
    check_index INTEGER NOT NULL,
    check_type TEXT NOT NULL,
    pass INTEGER NOT NULL,
    value REAL NOT NULL,
    detail TEXT,
    answer TEXT,
    latency_ms REAL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    PRIMARY KEY (run_id, case_id, check_index)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE online_samples (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,          -- ms since the epoch
    model TEXT NOT NULL,          -- the local model that answered
    route TEXT NOT NULL,          -- the requested model name
    kind TEXT NOT NULL,           -- text | json | tool_calls: how agreement was measured
    agreement REAL NOT NULL,      -- 0-1
    reference TEXT NOT NULL,
    difficulty REAL,              -- the router's score, when it computed one
    confidence REAL,              -- the cascade probe's mean log-probability, when one ran
    local_ms REAL NOT NULL,
    reference_ms REAL NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL
  );
  CREATE INDEX online_samples_series ON online_samples (model, route, kind, id);
  CREATE INDEX online_samples_at ON online_samples (at);
  `,
];

export interface RunInfo {
  id: number;
  suite: string;
  suiteSha256: string;
  model: string;
  startedAt: number;
  finishedAt: number | null;
  cases: number;
}

/** One check's outcome in a stored run. */
export interface StoredCheck {
  caseId: string;
  index: number;
  type: CheckType;
  pass: boolean;
  value: number;
}

export class EvalStore {
  private readonly db: Db;

  constructor(path: string) {
    this.db = openDatabase(path, EVAL_MIGRATIONS);
  }

  begin(suite: string, suiteSha256: string, model: string): number {
    return Number(this.db.prepare("INSERT INTO runs (suite, suite_sha256, model, started_at) VALUES (?, ?, ?, ?)").run(suite, suiteSha256, model, Date.now()).lastInsertRowid);
  }

  /** One case's checks, written together. */
  record(runId: number, result: CaseResult): void {
    const insert = this.db.prepare(
      "INSERT INTO results (run_id, case_id, check_index, check_type, pass, value, detail, answer, latency_ms, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      result.checks.forEach((c, i) =>
        insert.run(runId, result.caseId, i, c.type, c.pass ? 1 : 0, c.value, c.detail ?? null, result.answer?.text ?? null, result.answer?.latencyMs ?? null, result.answer?.promptTokens ?? null, result.answer?.completionTokens ?? null),
      );
    })();
  }

  finish(runId: number): void {
    this.db.prepare("UPDATE runs SET finished_at = ? WHERE id = ?").run(Date.now(), runId);
  }

  runs(): RunInfo[] {
    return (
      this.db
        .prepare("SELECT r.*, (SELECT count(DISTINCT case_id) FROM results WHERE run_id = r.id) AS cases FROM runs r ORDER BY id")
        .all() as { id: number; suite: string; suite_sha256: string; model: string; started_at: number; finished_at: number | null; cases: number }[]
    ).map((r) => ({ id: r.id, suite: r.suite, suiteSha256: r.suite_sha256, model: r.model, startedAt: r.started_at, finishedAt: r.finished_at, cases: r.cases }));
  }

  run(id: number): RunInfo | undefined {
    return this.runs().find((r) => r.id === id);
  }

  checks(runId: number): StoredCheck[] {
    return (this.db.prepare("SELECT case_id, check_index, check_type, pass, value FROM results WHERE run_id = ? ORDER BY case_id, check_index").all(runId) as { case_id: string; check_index: number; check_type: CheckType; pass: number; value: number }[]).map(
      (r) => ({ caseId: r.case_id, index: r.check_index, type: r.check_type, pass: r.pass === 1, value: r.value }),
    );
  }

  close(): void {
    this.db.close();
  }
}
