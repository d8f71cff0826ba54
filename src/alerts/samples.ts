/**
 * The daemon's metrics read back as samples from the Prometheus text it serves, so alert rules judge exactly what
 * a scraper sees, and the same rules exported for Prometheus mean the same thing there. The text is read by the
 * parser the console's pages use too.
 */
import { parseMetrics } from "../console/web/exposition.js";

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Samples by series name (a histogram's `_bucket`, `_sum` and `_count` are series of their own). */
export type Samples = ReadonlyMap<string, readonly Sample[]>;

export function parseExposition(text: string): Samples {
  const out = new Map<string, Sample[]>();
  for (const { name, labels, value } of parseMetrics(text)) (out.get(name) ?? out.set(name, []).get(name)!).push({ labels, value });
  return out;
}

export type Match = (labels: Record<string, string>) => boolean;

/** The sum of a series' samples that match (0 when there are none). */
export const total = (samples: Samples, name: string, match: Match = () => true): number => (samples.get(name) ?? []).filter((s) => match(s.labels)).reduce((n, s) => n + s.value, 0);

/** The largest matching sample, or undefined when there is none. */
export function largest(samples: Samples, name: string, match: Match = () => true): number | undefined {
  const values = (samples.get(name) ?? []).filter((s) => match(s.labels)).map((s) => s.value);
  return values.length ? Math.max(...values) : undefined;
}
