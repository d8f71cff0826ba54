/** A time-series line chart (uPlot, loaded beside the modules as a script) that keeps the last few minutes. */
import type uPlot from "uplot";

declare global {
  interface Window {
    uPlot: typeof uPlot;
  }
}

const KEEP_SECONDS = 5 * 60;
const COLORS = ["#2f7ed8", "#d9534f", "#5cb85c", "#f0ad4e", "#8e6bbf", "#4aa3a3"];

/** The five minutes up to the latest point (up to now before there is one). */
function window5(latest: number | null): [number, number] {
  const end = latest !== null && Number.isFinite(latest) ? latest : Date.now() / 1000;
  return [end - KEEP_SECONDS, end];
}

export class TimeChart {
  private readonly plot: uPlot;
  private readonly data: number[][];
  /** The chart's box; says how many points it holds (data-points), since the drawing itself is a canvas. */
  private readonly box: HTMLElement;

  constructor(parent: HTMLElement, title: string, series: string[], unit: string) {
    this.data = [[], ...series.map(() => [])];
    this.box = parent.appendChild(document.createElement("figure"));
    this.box.className = "chart";
    this.box.dataset.points = "0";
    const width = Math.max(280, Math.min(parent.clientWidth || 600, 720));
    this.plot = new window.uPlot(
      {
        title,
        width,
        height: 200,
        series: [{}, ...series.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false, value: (_: uPlot, v: number | null) => (v === null ? "–" : `${v.toFixed(v < 10 ? 2 : 0)} ${unit}`) }))],
        axes: [{}, { label: unit, size: 60 }],
        // always the last five minutes, so a glance compares like with like however long the page was open
        scales: { x: { time: true, range: (_u: uPlot, _min: number | null, max: number | null) => window5(max) } },
      },
      this.data as uPlot.AlignedData,
      this.box,
    );
  }

  /** Adds one point per series at `t` (seconds); null where there was nothing to measure. */
  add(t: number, values: (number | undefined)[]): void {
    this.data[0]!.push(t);
    values.forEach((v, i) => this.data[i + 1]!.push(v ?? (null as unknown as number)));
    while (this.data[0]!.length && this.data[0]![0]! < t - KEEP_SECONDS) for (const column of this.data) column.shift();
    this.plot.setData(this.data as uPlot.AlignedData);
    this.box.dataset.points = String(this.data[0]!.length);
  }

  resize(width: number): void {
    this.plot.setSize({ width: Math.max(280, Math.min(width, 720)), height: 200 });
  }

  destroy(): void {
    this.plot.destroy();
    this.box.remove();
  }
}
