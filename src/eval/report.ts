/** An evaluation's report on a terminal (one table per model) and as a chart (each metric, model by model). */
import { barChart } from "../report/barChart.js";
import { fixed, formatTable } from "../report/table.js";
import type { Difference, Metric, MetricName } from "./compare.js";
import type { Tuning } from "./tuneRouter.js";

export interface EvalReport {
  suite: string;
  cases: number;
  threshold: number;
  baseline?: { runId: number; model: string; metrics: Metric[] };
  runs: { runId: number; model: string; metrics: Metric[]; differences?: Difference[] }[];
}

const signed = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? "+" : ""}${v.toFixed(3)}` : "-");

export function evalTable(report: EvalReport): string {
  const parts: string[] = [];
  for (const run of report.runs) {
    const against = report.baseline ? `, against ${report.baseline.model} (run ${report.baseline.runId})` : "";
    parts.push(`\n${run.model} (run ${run.runId}) on ${report.suite}: ${report.cases} cases${against}\n`);
    const rows = run.metrics.map((m) => ({ m, d: run.differences?.find((d) => d.name === m.name) }));
    parts.push(
      formatTable(
        [
          { header: "metric", value: (r: (typeof rows)[number]) => r.m.name, align: "left" },
          { header: "checks", value: (r) => String(r.m.checks) },
          { header: "pass rate", value: (r) => fixed(r.m.passRate, 3) },
          { header: "mean", value: (r) => fixed(r.m.mean, 3) },
          ...(report.baseline
            ? [
                { header: "baseline", value: (r: (typeof rows)[number]) => fixed(r.d?.baseline, 3) },
                { header: "difference", value: (r: (typeof rows)[number]) => (r.d ? signed(r.d.delta) : "-") },
                { header: "95 % CI", value: (r: (typeof rows)[number]) => (r.d && Number.isFinite(r.d.ci[0]) ? `${signed(r.d.ci[0])} .. ${signed(r.d.ci[1])}` : "-") },
                { header: "", value: (r: (typeof rows)[number]) => (r.d?.regressed ? "REGRESSED" : "ok"), align: "left" as const },
              ]
            : []),
        ],
        rows,
      ),
    );
  }
  return parts.join("\n");
}

export function evalChart(report: EvalReport): string {
  const names: MetricName[] = [...new Set(report.runs.flatMap((r) => r.metrics.map((m) => m.name)))];
  const columns = [...(report.baseline ? [{ label: `${report.baseline.model} (baseline)`, metrics: report.baseline.metrics }] : []), ...report.runs.map((r) => ({ label: r.model, metrics: r.metrics }))];
  return barChart({
    title: `edged eval: ${report.suite}`,
    subtitle: `${report.cases} cases; the mean of each check type (pass rate for yes-or-no checks), "all" the pass rate of every check`,
    yLabel: "score (0-1)",
    series: columns.map((c) => c.label),
    groups: names.map((name) => ({ label: name, values: columns.map((c) => c.metrics.find((m) => m.name === name)?.mean ?? null) })),
  });
}

/** `edged eval --tune-router`: per route and setting, the current and the proposed value and what each does. */
export function tuningReport(tunings: readonly Tuning[], o: { target: number; agreeAt: number }): string {
  if (!tunings.length) return "no sample carries a difficulty score or a cascade confidence: the router computes them only for routes with cloud targets (and router.examples, or a cascade)";
  const parts = [`proposals: the fewest escalations at which the requests kept on the device agree with the reference (>= ${o.agreeAt}) at >= ${o.target}`];
  for (const t of tunings) {
    const rows = [{ what: "current", o: t.current }, ...(t.proposed ? [{ what: "proposed", o: t.proposed }] : [])];
    parts.push(`\nroute "${t.route}", ${t.setting}, over ${t.samples} recorded requests:${t.proposed ? "" : " no setting reaches the target"}`);
    parts.push(
      formatTable(
        [
          { header: "", value: (r: (typeof rows)[number]) => r.what, align: "left" },
          { header: "value", value: (r) => fixed(r.o.value, 3) },
          { header: "escalated", value: (r) => String(r.o.escalated) },
          { header: "kept", value: (r) => String(r.o.kept) },
          { header: "kept agreeing", value: (r) => fixed(r.o.keptAgreement, 3) },
          { header: "mean ms", value: (r) => fixed(r.o.meanMs, 1) },
        ],
        rows,
      ),
    );
  }
  return parts.join("\n");
}
