/** A small metrics registry that renders the Prometheus text exposition format (version 0.0.4). */

export type Labels = Record<string, string>;
const key = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const render = (labels: Labels, extra: Labels = {}) => {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
};

interface Metric {
  readonly name: string;
  lines(): string[];
}

export class Counter implements Metric {
  private values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const entry = this.values.get(k) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(k, entry);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels))?.value ?? 0;
  }
  lines(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.values.values()].map((e) => `${this.name}${render(e.labels)} ${e.value}`)];
  }
}

/** A gauge whose value is read when scraped, so it never goes stale: one number, or one per label set. */
export class Gauge implements Metric {
  constructor(readonly name: string, readonly help: string, private readonly read: () => number | [Labels, number][]) {}
  lines(): string[] {
    const value = this.read();
    const series = typeof value === "number" ? [[{}, value] as [Labels, number]] : value;
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...series.map(([labels, v]) => `${this.name}${render(labels)} ${v}`)];
  }
}

export class Histogram implements Metric {
  private series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}
  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    const s = this.series.get(k) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]!++;
    });
    s.sum += value;
    s.count++;
    this.series.set(k, s);
  }
  lines(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${render(s.labels, { le: String(b) })} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${render(s.labels, { le: "+Inf" })} ${s.count}`);
      out.push(`${this.name}_sum${render(s.labels)} ${s.sum}`, `${this.name}_count${render(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private metrics: Metric[] = [];
  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  render(): string {
    return this.metrics.flatMap((m) => m.lines()).join("\n") + "\n";
  }
}
