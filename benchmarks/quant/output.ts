/** The quant benchmark's results as text tables and as a chart of quality loss against speed. */
import { bubbleChart } from "../../src/report/svgChart.js";
import { fixed, formatTable, type Column } from "../../src/report/table.js";
import type { LlamaRow, OnnxModelRow, QuantReport } from "./schema.js";

const MiB = (bytes: number) => bytes / 2 ** 20;
const pct = (v: number, digits = 1) => `${fixed(v * 100, digits)}%`;
const signedPct = (v: number) => (v >= 0 ? "+" : "") + fixed(v, 2) + "%";

const LLAMA_COLUMNS: Column<LlamaRow>[] = [
  { header: "type", value: (r) => r.type + (r.reference ? " (ref)" : ""), align: "left" },
  { header: "MiB", value: (r) => fixed(MiB(r.fileBytes), 2) },
  { header: "bpw", value: (r) => fixed(r.bitsPerWeight, 2) },
  { header: "load ms", value: (r) => fixed(r.loadMs, 0) },
  { header: "RSS MiB", value: (r) => fixed(r.rssModelMiB, 1) },
  { header: "prefill t/s", value: (r) => fixed(r.prefillTokPerSec, 0) },
  { header: "decode t/s", value: (r) => fixed(r.decodeTokPerSec, 0) },
  { header: "decode ×F16", value: (r) => fixed(r.decodeRatio, 2) },
  { header: "TTFT p50 ms", value: (r) => fixed(r.ttftMs.p50, 2) },
  { header: "TTFT p99 ms", value: (r) => fixed(r.ttftMs.p99, 2) },
  { header: "PPL", value: (r) => `${fixed(r.perplexity, 3)} ±${fixed(r.perplexityError, 3)}` },
  { header: "ΔPPL", value: (r) => (r.reference ? "-" : signedPct(r.deltaPerplexityPct)) },
  { header: "KL", value: (r) => (r.reference ? "-" : r.klMean.toExponential(2)) },
  { header: "top-1", value: (r) => (r.reference ? "-" : pct(r.top1Agreement, 2)) },
];

const ONNX_COLUMNS: Column<OnnxModelRow>[] = [
  { header: "embedder", value: (r) => r.name, align: "left" },
  { header: "MiB", value: (r) => fixed(MiB(r.fileBytes), 2) },
  { header: "provider", value: (r) => r.provider, align: "left" },
  { header: "p50 ms", value: (r) => fixed(r.latencyMs.p50, 3) },
  { header: "p99 ms", value: (r) => fixed(r.latencyMs.p99, 3) },
  { header: "pairing top-1", value: (r) => pct(r.pairingTop1) },
];

export function llamaTable(report: QuantReport): string {
  const p = report.perplexity;
  const c = report.config;
  return [
    `llama.cpp, ${c.threads} thread${c.threads === 1 ? "" : "s"}; perplexity over ${p.chunks} chunks of ${c.ctx} tokens (${p.scoredTokens} scored of ${p.textTokens}); ` +
      `speed: median of ${c.rounds}×${c.reps} runs (prefill ${c.prefillTokens} tokens, decode ${c.decodeTokens}), TTFT over ${c.rounds}×${c.ttftReps} runs of a ${c.ttftPromptTokens}-token prompt`,
    formatTable(LLAMA_COLUMNS, report.llama),
    `RSS: peak resident memory of a process running only that model, minus its resident memory before loading. KL: mean KL(${report.llama[0]!.type} ‖ type), nats.`,
  ].join("\n");
}

export function onnxTable(onnx: NonNullable<QuantReport["onnx"]>): string {
  return [
    `ONNX embedders: latency of one ${onnx.inputTokens}-token input over ${onnx.runs} runs; pairing over ${onnx.pairs} held-out pairs in pools of ${onnx.pairPool} (random ${pct(onnx.randomBaseline, 0)})`,
    formatTable(ONNX_COLUMNS, onnx.models),
    `cosine(fp32, q4) over ${onnx.cosine.sentences} sentences: mean ${fixed(onnx.cosine.mean, 4)}, min ${fixed(onnx.cosine.min, 4)}`,
  ].join("\n");
}

export function qualitySpeedChart(report: QuantReport): string {
  return bubbleChart({
    title: "Quantization: quality loss against decode speed",
    subtitle: `${report.config.model}, ${report.config.threads} thread(s), ${report.machine.cpu}`,
    xLabel: "decode tokens/s (higher is faster)",
    yLabel: "mean KL divergence from F16, nats (lower is better)",
    sizeLabel: "file size",
    formatSize: (bytes) => `${fixed(MiB(bytes), 2)} MiB`,
    bubbles: report.llama.map((r) => ({
      label: r.type,
      x: r.decodeTokPerSec,
      y: r.klMean,
      size: r.fileBytes,
      detail: `${fixed(MiB(r.fileBytes), 2)} MiB, PPL ${fixed(r.perplexity, 2)}, top-1 ${pct(r.top1Agreement)}`,
    })),
  });
}
