/**
 * Reading the Prometheus text format (what GET /metrics serves): samples with their labels, and the quantile of a
 * histogram's observations between two readings. Pure code with neither DOM nor Node: the console's pages load it
 * in the browser, and the daemon's alert engine uses the same functions, so both read the metrics alike.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const unescape = (v: string) => v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
/** A bucket's upper bound or a value: `+Inf` is Infinity (Number() would make it NaN). */
export const numberOf = (text: string): number => (text === "+Inf" ? Infinity : text === "-Inf" ? -Infinity : Number(text));

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? "").matchAll(LABEL)) labels[key!] = unescape(value!);
    samples.push({ name: m[1]!, labels, value: numberOf(m[3]!) });
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
    const bound = numberOf(s.labels.le ?? "+Inf");
    byBound.set(bound, (byBound.get(bound) ?? 0) + s.value);
  }
  return [...byBound.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * The q-quantile of the observations between two readings of a histogram's buckets (cumulative counts by bound,
 * ascending), interpolated within its bucket as Prometheus's histogram_quantile does: in the +Inf bucket it is
 * the highest finite bound. Undefined when nothing was observed in between.
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
