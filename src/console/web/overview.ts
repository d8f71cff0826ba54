/** Overview: the hardware the probe found, where each model runs and why, the lanes, and whether the daemon is ready. */
import { call, json, text } from "./api.js";
import { bytes, definitionList, fill, h, section, state, table } from "./dom.js";
import { poll, type Page } from "./page.js";
import { named, parseMetrics } from "./exposition.js";

interface Inventory {
  platform: string;
  cpu: { model: string; arch: string; physicalCores: number; logicalCores: number; simd: string[]; ramTotalBytes: number; ramFreeBytes: number };
  gpus: { backend: string; name: string; vramTotalBytes: number; vramFreeBytes: number }[];
  npus: { name: string; source: string; driver?: string; onnxProvider?: string }[];
  onnxProviders: { name: string; bundled: boolean }[];
}

interface Loaded {
  id: string;
  engine: string;
  device: string;
  gpu_layers?: number;
  onnx_provider?: string;
  ram_bytes: number;
  vram_bytes: number;
  in_use: number;
  expires_at: string | null;
  placement: string;
  threads?: number;
}

const keepAlive = (expires: string | null, now: number): string => {
  if (expires === null) return "pinned (stays loaded)";
  const s = Math.max(0, Math.round((Date.parse(expires) - now) / 1000));
  return `unloads in ${s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`}`;
};

function hardware(inv: Inventory): HTMLElement {
  return section(
    "Hardware",
    definitionList([
      ["CPU", `${inv.cpu.model} (${inv.cpu.arch}), ${inv.cpu.physicalCores} cores, ${inv.cpu.logicalCores} threads`],
      ["Vector extensions", inv.cpu.simd.join(", ") || "none found"],
      ["RAM", `${bytes(inv.cpu.ramFreeBytes)} available of ${bytes(inv.cpu.ramTotalBytes)}`],
      ["GPUs", inv.gpus.length ? inv.gpus.map((g) => `${g.name} (${g.backend}, ${bytes(g.vramFreeBytes)} free of ${bytes(g.vramTotalBytes)})`).join("; ") : "none"],
      ["NPUs", inv.npus.length ? inv.npus.map((n) => `${n.name} (${n.driver ?? n.source}${n.onnxProvider ? `, via ${n.onnxProvider}` : ""})`).join("; ") : "none"],
      ["ONNX providers", inv.onnxProviders.map((p) => p.name).join(", ")],
      ["Platform", inv.platform],
    ]),
  );
}

function models(loaded: Loaded[]): HTMLElement {
  const now = Date.now();
  return section(
    "Loaded models",
    loaded.length
      ? table(
          ["model", "device", "placement", "memory", "in use", "keep-alive"],
          loaded.map((m) => [
            m.id,
            `${m.device}${m.threads ? `, ${m.threads} threads` : ""}${m.onnx_provider ? `, ONNX ${m.onnx_provider} provider` : ""}`,
            m.placement,
            `${bytes(m.ram_bytes)} RAM${m.vram_bytes ? `, ${bytes(m.vram_bytes)} VRAM` : ""}`,
            m.in_use,
            keepAlive(m.expires_at, now),
          ]),
        )
      : state("empty", "No model is loaded."),
  );
}

function lanes(metrics: string): HTMLElement {
  const samples = parseMetrics(metrics);
  const rows = named(samples, "edged_slots_total").map((s) => {
    const device = s.labels.device ?? "";
    const of = (name: string) => named(samples, name, { device })[0]?.value ?? 0;
    return [device, `${of("edged_slots_busy")} of ${s.value}`, of("edged_queue_depth")];
  });
  return section("Lanes", rows.length ? table(["device", "slots busy", "waiting"], rows) : state("empty", "No lane has run a request yet."));
}

async function readiness(): Promise<HTMLElement> {
  const response = await call("/ready");
  const body = (await response.json()) as { status: string; reason?: string; loaded?: string[] };
  return h("p", { class: `ready ${response.ok ? "ok" : "not"}`, "data-status": body.status }, response.ok ? "Ready: serving requests." : `Not ready (${body.status}): ${body.reason ?? ""}`);
}

export const overview: Page = {
  title: "Overview",
  show(view, signal) {
    const body = h("div");
    fill(view, h("h1", { tabindex: "-1" }, "Overview"), body);
    poll(body, 2000, signal, async () => {
      const [ready, inv, loaded, metrics] = await Promise.all([readiness(), json<Inventory>("/v1/hardware"), json<{ models: Loaded[] }>("/v1/loaded"), text("/metrics")]);
      if (!signal.aborted) fill(body, ready, models(loaded.models), lanes(metrics), hardware(inv));
    });
  },
};
