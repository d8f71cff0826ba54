/** Reading /metrics (the Prometheus text format) in the page: samples by name and labels, and histogram quantiles. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? "").matchAll(LABEL)) labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

export const named = (samples: Sample[], name: string, where: Record<string, string> = {}): Sample[] =>
  samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v));

export const total = (samples: Sample[], name: string, where: Record<string, string> = {}): number => named(samples, name, where).reduce((n, s) => n + s.value, 0);

/** Cumulative bucket counts of a histogram, summed over its series that `keep` keeps: [upper bound, count] by bound. */
export function buckets(samples: Sample[], name: string, keep: (labels: Record<string, string>) => boolean = () => true): [number, number][] {
  const byBound = new Map<number, number>();
  for (const s of named(samples, `${name}_bucket`)) {
    if (!keep(s.labels)) continue;
    const bound = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + s.value);
  }
  return [...byBound.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * The q-quantile of the observations between two readings of a histogram's buckets, interpolated within its
 * bucket as Prometheus's histogram_quantile does; undefined when nothing was observed in between.
 */
export function quantile(q: number, now: [number, number][], before: [number, number][] = []): number | undefined {
  const earlier = new Map(before);
  const counts = now.map(([bound, n]): [number, number] => [bound, n - (earlier.get(bound) ?? 0)]);
  const all = counts.at(-1)?.[1] ?? 0;
  if (all <= 0) return undefined;
  const rank = q * all;
  let lower = 0;
  let below = 0;
  for (const [bound, n] of counts) {
    if (n >= rank) {
      if (!Number.isFinite(bound)) return lower;
      return lower + ((bound - lower) * (rank - below)) / Math.max(n - below, 1e-9);
    }
    lower = bound;
    below = n;
  }
  return lower;
}
