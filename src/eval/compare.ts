/**
 * A run's metrics and how they differ from a baseline's. One metric per check type: the mean of its values (the
 * pass rate for yes-or-no checks, the mean cosine, token probability or grade for graded ones), and the pass rate
 * of every check together ("all"). A difference pairs the two runs check by check (same case, same check) and
 * carries a 95 % confidence interval (mean ± 1.96 standard errors of the paired differences). The likelihood of a
 * reference (loglik) differs by its ratio: the mean token probability is 1 / perplexity, tiny for any model, so
 * its change is relative (exp of the mean change in log-probability per token, minus 1), as perplexities compare.
 */
import type { StoredCheck } from "./store.js";
import type { CheckType } from "./suite.js";

export type MetricName = CheckType | "all";

export interface Metric {
  name: MetricName;
  checks: number;
  passRate: number;
  mean: number;
}

export interface Difference {
  name: MetricName;
  /** Checks found in both runs. */
  paired: number;
  baseline: number;
  current: number;
  /** current − baseline; for loglik, current / baseline − 1. */
  delta: number;
  ci: [number, number];
  /** Worse than the baseline by more than the threshold. */
  regressed: boolean;
}

const meanOf = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const score = (name: MetricName, c: StoredCheck) => (name === "all" ? (c.pass ? 1 : 0) : c.value);

function groups(checks: readonly StoredCheck[]): Map<MetricName, StoredCheck[]> {
  const by = new Map<MetricName, StoredCheck[]>([["all", [...checks]]]);
  for (const c of checks) by.set(c.type, [...(by.get(c.type) ?? []), c]);
  return by;
}

export function metricsOf(checks: readonly StoredCheck[]): Metric[] {
  return [...groups(checks)].map(([name, cs]) => ({ name, checks: cs.length, passRate: meanOf(cs.map((c) => (c.pass ? 1 : 0))), mean: meanOf(cs.map((c) => score(name, c))) }));
}

export function compare(current: readonly StoredCheck[], baseline: readonly StoredCheck[], threshold: number): Difference[] {
  const key = (c: StoredCheck) => `${c.caseId}\u0000${c.index}`;
  const before = new Map(baseline.map((c) => [key(c), c]));
  return [...groups(current)].map(([name, cs]) => {
    const pairs = cs.flatMap((c) => {
      const b = before.get(key(c));
      return b && b.type === c.type ? [[score(name, c), score(name, b)] as const] : [];
    });
    const relative = name === "loglik";
    const deltas = pairs.map(([now, then]) => (relative ? Math.log(now / then) : now - then));
    const mean = meanOf(deltas);
    const sd = Math.sqrt(deltas.reduce((s, d) => s + (d - mean) ** 2, 0) / Math.max(1, deltas.length - 1));
    const half = deltas.length > 1 ? (1.96 * sd) / Math.sqrt(deltas.length) : NaN;
    const scale = (d: number) => (relative ? Math.expm1(d) : d);
    const delta = scale(mean);
    return {
      name,
      paired: pairs.length,
      baseline: meanOf(pairs.map(([, then]) => then)),
      current: meanOf(pairs.map(([now]) => now)),
      delta,
      ci: [scale(mean - half), scale(mean + half)],
      regressed: delta < -threshold,
    };
  });
}
