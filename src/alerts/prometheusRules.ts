/**
 * The alert rules as a Prometheus rules file, for fleets that scrape edged's /metrics and alert in Prometheus:
 * each rule's signal as its PromQL expression, compared with the threshold, with the same `for:` and severity.
 * YAML written by hand: every string a JSON string, which YAML reads as a double-quoted scalar.
 */
import { durationMs } from "../config/duration.js";
import type { AlertRule } from "./rules.js";
import { SIGNALS } from "./signals.js";

/** A duration as Prometheus writes it: a whole number of its largest unit that divides it. */
function promDuration(ms: number): string {
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return ms === 0 ? "0s" : `${Math.round(ms)}ms`;
}

export function prometheusRules(rules: readonly AlertRule[]): string {
  const lines = ["groups:", "  - name: edged", "    rules:"];
  for (const rule of rules) {
    const signal = SIGNALS[rule.signal];
    lines.push(
      `      - alert: ${rule.name}`,
      `        expr: ${JSON.stringify(`(${signal.expr}) ${rule.op} ${rule.threshold}`)}`,
      `        for: ${promDuration(durationMs(rule.for))}`,
      "        labels:",
      `          severity: ${JSON.stringify(rule.severity)}`,
      "        annotations:",
      `          summary: ${JSON.stringify(`${signal.help} ${rule.op} ${rule.threshold}`)}`,
      `          value: ${JSON.stringify("{{ $value }}")}`,
    );
  }
  return lines.join("\n") + "\n";
}
