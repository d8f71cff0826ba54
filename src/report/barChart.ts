/** A grouped bar chart as a standalone SVG document, with a reference line (1.0 for ratios against a peer). */
import { escape } from "./svgChart.js";

export interface BarGroup {
  label: string;
  /** One value per series, in the series' order; null where there is none. */
  values: readonly (number | null)[];
}

export interface BarChart {
  title: string;
  subtitle?: string;
  yLabel: string;
  series: readonly string[];
  groups: readonly BarGroup[];
  /** A horizontal line drawn across the plot, e.g. parity at 1.0. */
  reference?: { value: number; label: string };
}

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"];

export function barChart(chart: BarChart): string {
  const groupWidth = Math.max(60, chart.series.length * 18 + 20);
  const plot = { left: 70, top: 70, width: chart.groups.length * groupWidth, height: 300 };
  const width = plot.left + plot.width + 200;
  const height = plot.top + plot.height + 110;
  const values = chart.groups.flatMap((g) => g.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const top = Math.max(chart.reference?.value ?? 0, ...values, 1e-9) * 1.15;
  const y = (v: number) => plot.top + plot.height - (v / top) * plot.height;
  const step = [0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].find((s) => top / s <= 8) ?? top / 5;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${plot.left}" y="28" font-size="16" font-weight="bold">${escape(chart.title)}</text>`,
    chart.subtitle ? `<text x="${plot.left}" y="48" fill="#555">${escape(chart.subtitle)}</text>` : "",
  ];
  for (let v = 0; v <= top; v += step) {
    parts.push(`<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${plot.left - 8}" y="${y(v) + 4}" text-anchor="end" fill="#555">${Math.round(v * 100) / 100}</text>`);
  }
  parts.push(`<text transform="translate(20 ${plot.top + plot.height / 2}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`);
  chart.groups.forEach((group, g) => {
    const x0 = plot.left + g * groupWidth + 10;
    group.values.forEach((v, s) => {
      if (v === null || !Number.isFinite(v)) return;
      const x = x0 + s * 18;
      parts.push(`<rect x="${x}" y="${y(v)}" width="14" height="${plot.top + plot.height - y(v)}" fill="${PALETTE[s % PALETTE.length]}"><title>${escape(`${group.label} / ${chart.series[s]}: ${v.toFixed(2)}`)}</title></rect>`);
    });
    const cx = x0 + (chart.series.length * 18) / 2;
    parts.push(`<text transform="translate(${cx} ${plot.top + plot.height + 14}) rotate(30)" fill="#333">${escape(group.label)}</text>`);
  });
  if (chart.reference) {
    const ry = y(chart.reference.value);
    parts.push(`<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${ry}" y2="${ry}" stroke="#c00" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${plot.left + plot.width + 6}" y="${ry + 4}" fill="#c00">${escape(chart.reference.label)}</text>`);
  }
  chart.series.forEach((name, s) => {
    const ly = plot.top + 20 + s * 20;
    parts.push(`<rect x="${plot.left + plot.width + 20}" y="${ly - 10}" width="12" height="12" fill="${PALETTE[s % PALETTE.length]}"/>`);
    parts.push(`<text x="${plot.left + plot.width + 38}" y="${ly}">${escape(name)}</text>`);
  });
  parts.push(`<line x1="${plot.left}" x2="${plot.left}" y1="${plot.top}" y2="${plot.top + plot.height}" stroke="#333"/>`);
  parts.push(`<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${plot.top + plot.height}" y2="${plot.top + plot.height}" stroke="#333"/>`);
  parts.push("</svg>");
  return parts.filter(Boolean).join("\n") + "\n";
}
