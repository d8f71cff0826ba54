/**
 * Online evaluation's samples in DATA_DIR/eval.db: each sampled request's agreement with the reference, with what
 * the router knew of it (difficulty, confidence) and both latencies, so the router can be tuned from them. A
 * series (model, route, kind) has a baseline, the mean of its first `window` samples, and a current mean, of its
 * latest `window`.
 */
import { openDatabase, type Db } from "../db/open.js";
import { EVAL_MIGRATIONS } from "./store.js";

export type AgreementKind = "text" | "json" | "tool_calls";

export interface OnlineSample {
  at: number;
  model: string;
  route: string;
  kind: AgreementKind;
  agreement: number;
  reference: string;
  difficulty?: number;
  confidence?: number;
  localMs: number;
  referenceMs: number;
  promptTokens: number;
  completionTokens: number;
}

/** Which model answered on which route, and how agreement was measured: one series of samples. */
export interface Series {
  model: string;
  route: string;
  kind: AgreementKind;
}

export interface SeriesAgreement extends Series {
  /** Means of the first and the latest `window` samples; the baseline only once there are `window` of them. */
  baseline?: number;
  current: number;
}

/** A stored sample: what was not computed is NULL. */
type Row = Omit<OnlineSample, "difficulty" | "confidence"> & { difficulty: number | null; confidence: number | null };

export class OnlineSamples {
  private readonly db: Db;
  private readonly q;

  constructor(path: string) {
    this.db = openDatabase(path, EVAL_MIGRATIONS);
    this.q = {
      insert: this.db.prepare(
        "INSERT INTO online_samples (at, model, route, kind, agreement, reference, difficulty, confidence, local_ms, reference_ms, prompt_tokens, completion_tokens) VALUES (@at, @model, @route, @kind, @agreement, @reference, @difficulty, @confidence, @localMs, @referenceMs, @promptTokens, @completionTokens)",
      ),
      series: this.db.prepare<[], Series>("SELECT DISTINCT model, route, kind FROM online_samples ORDER BY model, route, kind"),
      // both read at most `window` rows of the series' index, however many samples are kept
      first: this.db.prepare<[string, string, string, number], { n: number; mean: number }>(
        "SELECT count(*) AS n, avg(agreement) AS mean FROM (SELECT agreement FROM online_samples WHERE model = ? AND route = ? AND kind = ? ORDER BY id LIMIT ?)",
      ),
      latest: this.db.prepare<[string, string, string, number], { mean: number }>("SELECT avg(agreement) AS mean FROM (SELECT agreement FROM online_samples WHERE model = ? AND route = ? AND kind = ? ORDER BY id DESC LIMIT ?)"),
      all: this.db.prepare<[], Row>(
        "SELECT at, model, route, kind, agreement, reference, difficulty, confidence, local_ms AS localMs, reference_ms AS referenceMs, prompt_tokens AS promptTokens, completion_tokens AS completionTokens FROM online_samples ORDER BY id",
      ),
      purge: this.db.prepare<[number]>("DELETE FROM online_samples WHERE at < ?"),
    };
  }

  record(s: OnlineSample): void {
    this.q.insert.run({ ...s, difficulty: s.difficulty ?? null, confidence: s.confidence ?? null });
  }

  /** Every series' baseline and current agreement over `window` samples. */
  agreement(window: number): SeriesAgreement[] {
    return this.q.series.all().map((series) => this.agreementOf(series, window));
  }

  /** One series' baseline and current agreement over `window` samples. */
  agreementOf({ model, route, kind }: Series, window: number): SeriesAgreement {
    const first = this.q.first.get(model, route, kind, window)!;
    return { model, route, kind, ...(first.n >= window && { baseline: first.mean }), current: this.q.latest.get(model, route, kind, window)!.mean };
  }

  all(): OnlineSample[] {
    return this.q.all.all().map((r) => ({ ...r, difficulty: r.difficulty ?? undefined, confidence: r.confidence ?? undefined }));
  }

  /** Deletes samples older than `retentionMs`; the count deleted. */
  purge(retentionMs: number, now = Date.now()): number {
    return this.q.purge.run(now - retentionMs).changes;
  }

  close(): void {
    this.db.close();
  }
}
