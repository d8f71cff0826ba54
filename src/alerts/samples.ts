/**
 * The daemon's metrics read back as samples from the Prometheus text it serves, so alert rules judge exactly what
 * a scraper sees, and the same rules exported for Prometheus mean the same thing there.
 */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Samples by series name (a histogram's `_bucket`, `_sum` and `_count` are series of their own). */
export type Samples = ReadonlyMap<string, readonly Sample[]>;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const unescape = (v: string) => v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));

export function parseExposition(text: string): Samples {
  const out = new Map<string, Sample[]>();
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue; // comments, blank lines
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(LABEL)) labels[k!] = unescape(v!);
    const value = m[3] === "+Inf" ? Infinity : Number(m[3]);
    (out.get(m[1]!) ?? out.set(m[1]!, []).get(m[1]!)!).push({ labels, value });
  }
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
