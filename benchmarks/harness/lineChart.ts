/**
 * Time series as small multiples in one standalone SVG document: a panel per series, each on its own y scale,
 * with an optional fitted line over part of the run (a soak's second-half trend).
 */
import { escape, ticks } from "../../src/report/svgChart.js";

export interface Panel {
  title: string;
  unit: string;
  points: readonly { x: number; y: number }[];
  /** A straight line drawn from (from, at(from)) to (to, at(to)). */
  fit?: { from: number; to: number; at: (x: number) => number; label: string };
}

export interface LineChart {
  title: string;
  subtitle?: string;
  xLabel: string;
  panels: readonly Panel[];
}

const PANEL = { width: 380, height: 190, left: 64, top: 34, right: 16, bottom: 34 };
const COLUMNS = 2;

function panel(p: Panel, ox: number, oy: number, xDomain: [number, number]): string[] {
  const w = PANEL.width - PANEL.left - PANEL.right;
  const h = PANEL.height - PANEL.top - PANEL.bottom;
  const ysAll = p.points.map((q) => q.y).filter(Number.isFinite);
  const lo = Math.min(...ysAll, 0);
  const ys = ticks(lo, Math.max(...ysAll, lo + 1e-9) * 1.1, 4);
  const xs = ticks(xDomain[0], xDomain[1], 5);
  const px = (x: number) => ox + PANEL.left + ((x - xs.domain[0]) / (xs.domain[1] - xs.domain[0])) * w;
  const py = (y: number) => oy + PANEL.top + h - ((y - ys.domain[0]) / (ys.domain[1] - ys.domain[0])) * h;
  const out = [`<text x="${ox + PANEL.left}" y="${oy + 20}" font-weight="bold">${escape(p.title)} (${escape(p.unit)})</text>`];
  for (const v of ys.values) {
    out.push(`<line x1="${ox + PANEL.left}" x2="${ox + PANEL.left + w}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/>`);
    out.push(`<text x="${ox + PANEL.left - 6}" y="${py(v) + 4}" text-anchor="end" fill="#555">${ys.label(v)}</text>`);
  }
  for (const v of xs.values) out.push(`<text x="${px(v)}" y="${oy + PANEL.top + h + 16}" text-anchor="middle" fill="#555">${xs.label(v)}</text>`);
  const path = p.points.filter((q) => Number.isFinite(q.y)).map((q, i) => `${i ? "L" : "M"}${px(q.x).toFixed(1)},${py(q.y).toFixed(1)}`).join("");
  out.push(`<path d="${path}" fill="none" stroke="#4e79a7" stroke-width="1.5"/>`);
  if (p.fit && Number.isFinite(p.fit.at(p.fit.from))) {
    const { from, to, at } = p.fit;
    out.push(`<line x1="${px(from)}" y1="${py(at(from))}" x2="${px(to)}" y2="${py(at(to))}" stroke="#e15759" stroke-width="1.5" stroke-dasharray="5 3"/>`);
    out.push(`<text x="${ox + PANEL.left + w}" y="${oy + 20}" text-anchor="end" fill="#e15759">${escape(p.fit.label)}</text>`);
  }
  return out;
}

export function lineChart(chart: LineChart): string {
  const rows = Math.ceil(chart.panels.length / COLUMNS);
  const width = PANEL.width * COLUMNS;
  const height = 70 + rows * PANEL.height + 24;
  const xsAll = chart.panels.flatMap((p) => p.points.map((q) => q.x));
  const xDomain: [number, number] = [Math.min(...xsAll, 0), Math.max(...xsAll, 1)];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="26" font-size="16" font-weight="bold">${escape(chart.title)}</text>`,
    chart.subtitle ? `<text x="16" y="46" fill="#555">${escape(chart.subtitle)}</text>` : "",
  ];
  chart.panels.forEach((p, i) => out.push(...panel(p, (i % COLUMNS) * PANEL.width, 60 + Math.floor(i / COLUMNS) * PANEL.height, xDomain)));
  out.push(`<text x="${width / 2}" y="${height - 8}" text-anchor="middle" fill="#555">${escape(chart.xLabel)}</text>`, "</svg>");
  return out.join("\n") + "\n";
}
