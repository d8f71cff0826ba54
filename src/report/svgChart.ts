/** A bubble chart as a standalone SVG document, written by hand so benchmarks need no plotting dependency. */

export interface Bubble {
  label: string;
  x: number;
  y: number;
  /** Drawn as the bubble's area, so a file twice as large covers twice the ink. */
  size: number;
  /** Extra text for the bubble's tooltip. */
  detail?: string;
}

export interface BubbleChart {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  sizeLabel: string;
  formatSize: (size: number) => string;
  bubbles: readonly Bubble[];
}

const WIDTH = 820;
const HEIGHT = 500;
const PLOT = { left: 80, top: 70, right: WIDTH - 230, bottom: HEIGHT - 60 };
const MAX_RADIUS = 30;
const MIN_RADIUS = 3;
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

export const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const num = (v: number) => String(Math.round(v * 100) / 100);

/** Round tick steps (1, 2, 5 × 10^k) covering [lo, hi] with about `count` ticks, labelled with the step's decimals. */
export function ticks(lo: number, hi: number, count = 5): { domain: [number, number]; values: number[]; label: (v: number) => string } {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const values: number[] = [];
  for (let v = start; v <= end + step / 2; v += step) values.push(Number(v.toPrecision(12)));
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return { domain: [start, end], values, label: (v) => v.toFixed(decimals) };
}

export function bubbleChart(chart: BubbleChart): string {
  const finite = chart.bubbles.filter((b) => Number.isFinite(b.x) && Number.isFinite(b.y));
  // Axes start at zero: speeds and divergences are compared as ratios, which a cut axis would exaggerate.
  const xs = ticks(Math.min(0, ...finite.map((b) => b.x)), Math.max(...finite.map((b) => b.x), 0) * 1.08);
  const ys = ticks(Math.min(0, ...finite.map((b) => b.y)), Math.max(...finite.map((b) => b.y), 0) * 1.15);
  const px = (x: number) => PLOT.left + ((x - xs.domain[0]) / (xs.domain[1] - xs.domain[0])) * (PLOT.right - PLOT.left);
  const py = (y: number) => PLOT.bottom - ((y - ys.domain[0]) / (ys.domain[1] - ys.domain[0])) * (PLOT.bottom - PLOT.top);
  const maxSize = Math.max(...chart.bubbles.map((b) => b.size), 1e-12);
  const radius = (size: number) => Math.max(MIN_RADIUS, MAX_RADIUS * Math.sqrt(size / maxSize));
  const color = (i: number) => PALETTE[i % PALETTE.length]!;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PLOT.left}" y="28" font-size="16" font-weight="bold">${escape(chart.title)}</text>`,
  ];
  if (chart.subtitle) out.push(`<text x="${PLOT.left}" y="48" fill="#555555">${escape(chart.subtitle)}</text>`);

  out.push(`<g class="grid" stroke="#e5e5e5">`);
  for (const v of xs.values) out.push(`<line x1="${num(px(v))}" y1="${PLOT.top}" x2="${num(px(v))}" y2="${PLOT.bottom}"/>`);
  for (const v of ys.values) out.push(`<line x1="${PLOT.left}" y1="${num(py(v))}" x2="${PLOT.right}" y2="${num(py(v))}"/>`);
  out.push(`</g>`);
  out.push(
    `<g class="axes" stroke="#333333"><line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}"/><line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}"/></g>`,
  );
  out.push(`<g class="ticks" fill="#333333">`);
  for (const v of xs.values) out.push(`<text x="${num(px(v))}" y="${PLOT.bottom + 18}" text-anchor="middle">${xs.label(v)}</text>`);
  for (const v of ys.values) out.push(`<text x="${PLOT.left - 8}" y="${num(py(v) + 4)}" text-anchor="end">${ys.label(v)}</text>`);
  out.push(`</g>`);
  out.push(`<text x="${num((PLOT.left + PLOT.right) / 2)}" y="${HEIGHT - 18}" text-anchor="middle">${escape(chart.xLabel)}</text>`);
  out.push(`<text transform="translate(22 ${num((PLOT.top + PLOT.bottom) / 2)}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`);

  // Largest first, so a small bubble drawn over a large one stays visible.
  const order = chart.bubbles.map((b, i) => ({ b, i })).sort((a, c) => c.b.size - a.b.size);
  const drawn = order.filter(({ b }) => Number.isFinite(b.x) && Number.isFinite(b.y));
  out.push(`<g class="bubbles">`);
  for (const { b, i } of drawn) {
    const tip = [b.label, b.detail].filter(Boolean).join(": ");
    out.push(
      `<circle class="bubble" cx="${num(px(b.x))}" cy="${num(py(b.y))}" r="${num(radius(b.size))}" fill="${color(i)}" fill-opacity="0.55" stroke="${color(i)}"><title>${escape(tip)}</title></circle>`,
    );
  }
  out.push(`</g>`);
  // Labels after every bubble, so no bubble hides another's label.
  out.push(`<g class="labels">`);
  for (const { b } of drawn) out.push(`<text x="${num(px(b.x) + radius(b.size) + 4)}" y="${num(py(b.y) + 4)}">${escape(b.label)}</text>`);
  out.push(`</g>`);

  const lx = PLOT.right + 30;
  out.push(`<g class="legend">`);
  chart.bubbles.forEach((b, i) => {
    const y = PLOT.top + i * 20;
    out.push(`<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${color(i)}" fill-opacity="0.55" stroke="${color(i)}"/>`);
    out.push(`<text x="${lx + 18}" y="${y}">${escape(`${b.label}  ${chart.formatSize(b.size)}`)}</text>`);
  });
  const keyTop = PLOT.top + chart.bubbles.length * 20 + 20;
  out.push(`<text x="${lx}" y="${keyTop}" fill="#555555">bubble area = ${escape(chart.sizeLabel)}</text>`);
  [maxSize, maxSize / 4].forEach((size, k) => {
    const r = radius(size);
    const cy = keyTop + 20 + MAX_RADIUS + k * (MAX_RADIUS * 2 + 8) - (MAX_RADIUS - r);
    out.push(`<circle class="legend-size" cx="${lx + MAX_RADIUS}" cy="${num(cy)}" r="${num(r)}" fill="none" stroke="#777777"/>`);
    out.push(`<text x="${lx + MAX_RADIUS * 2 + 8}" y="${num(cy + 4)}">${escape(chart.formatSize(size))}</text>`);
  });
  out.push(`</g>`, `</svg>`);
  return out.join("\n") + "\n";
}
