/**
 * Models and quantization: every model a client may name, with what it can do and its size and quantization,
 * and the latest `edged bench quant` and `edged bench peer` results (their tables and charts) when they exist.
 */
import { ApiError, call, json } from "./api.js";
import { bytes, fill, h, section, state, table } from "./dom.js";
import type { Page } from "./page.js";

interface Card {
  id: string;
  context_length?: number;
  dimensions?: number;
  capabilities: Record<string, boolean>;
}

interface Tag {
  name: string;
  size: number;
  details: { family: string; parameter_size: string; quantization_level: string };
}

interface QuantRow {
  type: string;
  fileBytes: number;
  bitsPerWeight: number;
  decodeTokPerSec: number;
  decodeRatio: number;
  deltaPerplexityPct: number;
  klMean: number;
  top1Agreement: number;
}

interface PeerRow {
  model: string;
  mode: string;
  edged: { decode: number; aggregate4: number; ttftP50: number };
  llamaServer?: { decode: number; aggregate4: number; ttftP50: number };
}

const ratio = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(2)}×` : "–");

async function chart(name: string, signal: AbortSignal): Promise<HTMLElement | undefined> {
  const response = await call(`/v1/benchmarks/${name}/chart`);
  if (!response.ok) return undefined;
  // fetched with the key, then shown from memory: an <img> cannot send one
  const url = URL.createObjectURL(await response.blob());
  signal.addEventListener("abort", () => URL.revokeObjectURL(url));
  return h("img", { src: url, alt: `chart of the latest edged bench ${name} results`, class: "bench-chart" });
}

async function benchmark<T>(name: string): Promise<T | undefined> {
  try {
    return await json<T>(`/v1/benchmarks/${name}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** A benchmark's latest results in `target`: when they were measured, their table and the chart the benchmark drew. */
function benchmarkSection<T>(target: HTMLElement, name: string, title: string, signal: AbortSignal, rows: (r: T) => HTMLElement): void {
  void Promise.all([benchmark<T & { date: string }>(name), chart(name, signal)]).then(
    ([r, image]) => fill(target, section(title, r ? [h("p", {}, `Measured ${new Date(r.date).toLocaleString()}.`), rows(r), image] : state("empty", `No results yet: run edged bench ${name}.`))),
    (error: Error) => fill(target, state("error", error.message)),
  );
}

export const models: Page = {
  title: "Models",
  show(view, signal) {
    const list = h("div");
    const quant = h("div");
    const peer = h("div");
    fill(view, h("h1", { tabindex: "-1" }, "Models and quantization"), list, quant, peer);
    fill(list, state("loading", "Loading…"));
    void Promise.all([json<{ data: Card[] }>("/v1/models"), json<{ models: Tag[] }>("/api/tags")]).then(
      ([cards, tags]) => {
        const byName = new Map(tags.models.map((t) => [t.name, t]));
        fill(
          list,
          section(
            "Models",
            table(
              ["model", "family", "parameters", "quantization", "file", "context", "can"],
              cards.data.map((c) => {
                const tag = byName.get(c.id);
                const can = Object.entries(c.capabilities).filter(([, yes]) => yes).map(([what]) => what.replace("_", " "));
                return [c.id, tag?.details.family ?? "", tag?.details.parameter_size ?? "", tag?.details.quantization_level ?? "", tag ? bytes(tag.size) : "", c.context_length ?? (c.dimensions ? `${c.dimensions}-d vectors` : ""), can.join(", ")];
              }),
            ),
          ),
        );
      },
      (error: Error) => fill(list, state("error", error.message)),
    );
    benchmarkSection<{ llama: QuantRow[] }>(quant, "quant", "Quantization (edged bench quant)", signal, (r) =>
      table(
        ["type", "file", "bits/weight", "decode tok/s", "decode vs F16", "Δ perplexity", "KL mean", "top-1 agreement"],
        r.llama.map((q) => [q.type, bytes(q.fileBytes), q.bitsPerWeight.toFixed(2), q.decodeTokPerSec.toFixed(0), `${q.decodeRatio.toFixed(2)}×`, `${q.deltaPerplexityPct.toFixed(1)} %`, q.klMean.toFixed(4), `${(q.top1Agreement * 100).toFixed(1)} %`]),
      ),
    );
    benchmarkSection<{ results: PeerRow[] }>(peer, "peer", "Speed against llama.cpp's server (edged bench peer)", signal, (r) =>
      table(
        ["model", "settings", "decode tok/s", "vs llama-server", "4 clients tok/s", "vs llama-server"],
        r.results.map((p) => [p.model, p.mode, p.edged.decode.toFixed(0), ratio(p.edged.decode, p.llamaServer?.decode), p.edged.aggregate4.toFixed(0), ratio(p.edged.aggregate4, p.llamaServer?.aggregate4)]),
      ),
    );
  },
};
