/** Probes the machine (or a recording of one) into an Inventory. */
import { probeCpu } from "./cpu.js";
import { Inventory, type GpuInfo } from "./inventory.js";
import { probeNpus } from "./npu.js";
import type { LlamaGpuReport, ProbeSources } from "./sources.js";

/** node-llama-cpp reports VRAM for all devices together; each device is given an equal share. */
function gpusFrom(report: LlamaGpuReport): GpuInfo[] {
  if (report.gpu === false) return [];
  const backend = report.gpu;
  const names = report.devices.length ? report.devices : [`${backend} device`];
  return names.map((name) => ({
    backend,
    name,
    vramTotalBytes: report.vram.total / names.length,
    vramFreeBytes: report.vram.free / names.length,
    unifiedMemory: report.vram.unifiedSize > 0,
  }));
}

export async function probe(s: ProbeSources): Promise<Inventory> {
  const [cpu, gpu, onnxProviders] = await Promise.all([probeCpu(s), s.llamaGpu(), s.onnxBackends()]);
  return Inventory.parse({ platform: `${s.platform}-${s.arch}`, cpu, gpus: gpusFrom(gpu), npus: await probeNpus(s, onnxProviders), onnxProviders });
}
