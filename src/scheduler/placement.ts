/**
 * Where each model runs: the device its estimated memory fits on, best first (GPU, with as many layers as fit,
 * then CPU for llama models; NPU, then GPU, then CPU for ONNX models), with the reason for every decision.
 */
import { GPU_PROVIDERS } from "../engines/onnx/executionProviders.js";
import type { Inventory } from "../hardware/inventory.js";
import type { Device, LlamaModelEntry, OnnxModelEntry } from "../models/manifest.js";

export interface MemoryEstimate {
  cpuRam: number;
  gpuVram: number;
}

/** A llama model's memory at a given number of offloaded layers: weights plus context (KV cache and buffers). */
export interface LlamaFootprint {
  totalLayers: number;
  estimate(gpuLayers: number): MemoryEstimate;
}

export interface Placement {
  model: string;
  device: Device;
  /** llama models: layers offloaded to the GPU (0 on CPU). */
  gpuLayers?: number;
  /** ONNX models: the execution provider to use first. */
  onnxProvider?: string;
  estimate: MemoryEstimate;
  reason: string;
}

export class PlacementError extends Error {
  override name = "PlacementError";
}

/** Memory left unplanned for the OS, other processes and fragmentation. */
const HEADROOM = 0.1;
const budget = (free: number) => free * (1 - HEADROOM);
const mib = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MiB`;

export function placeLlama(entry: LlamaModelEntry, footprint: LlamaFootprint, inv: Inventory): Placement {
  const ram = budget(inv.cpu.ramFreeBytes);
  const gpu = [...inv.gpus].sort((a, b) => b.vramFreeBytes - a.vramFreeBytes)[0];
  const fits = (e: MemoryEstimate, vram: number) => e.gpuVram <= vram && e.cpuRam <= ram;
  const notes: string[] = [];
  if (entry.devices.includes("gpu") && gpu) {
    const vram = budget(gpu.vramFreeBytes);
    const all = footprint.estimate(footprint.totalLayers);
    if (fits(all, vram)) {
      return { model: entry.id, device: "gpu", gpuLayers: footprint.totalLayers, estimate: all, reason: `all ${footprint.totalLayers} layers fit on ${gpu.name}: ${mib(all.gpuVram)} of ${mib(vram)} usable VRAM` };
    }
    let lo = 0;
    let hi = footprint.totalLayers - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(footprint.estimate(mid), vram)) lo = mid;
      else hi = mid - 1;
    }
    if (lo > 0) {
      const e = footprint.estimate(lo);
      return {
        model: entry.id,
        device: "gpu",
        gpuLayers: lo,
        estimate: e,
        reason: `${gpu.name} holds ${lo} of ${footprint.totalLayers} layers (${mib(e.gpuVram)} of ${mib(vram)} usable VRAM); the rest runs on the CPU (${mib(e.cpuRam)} RAM)`,
      };
    }
    notes.push(`not even one layer fits in ${gpu.name}'s ${mib(vram)} usable VRAM`);
  } else if (entry.devices.includes("gpu")) {
    notes.push("no GPU found");
  }
  const cpu = footprint.estimate(0);
  if (entry.devices.includes("cpu") && cpu.cpuRam <= ram) {
    return { model: entry.id, device: "cpu", gpuLayers: 0, estimate: cpu, reason: [...notes, `CPU: ${mib(cpu.cpuRam)} of ${mib(ram)} usable RAM`].join("; ") };
  }
  const why = entry.devices.includes("cpu") ? `it needs ${mib(cpu.cpuRam)} of RAM and ${mib(ram)} is usable` : `its allowed devices are ${entry.devices.join(", ")}`;
  throw new PlacementError(`model ${entry.id} fits on no device: ${[...notes, why].join("; ")}`);
}

const NPU_NOTE = "an NPU provider is offered by this onnxruntime build";

/** ONNX weights plus onnxruntime's arena: about 1.5 times the file. */
export function onnxFootprint(entry: OnnxModelEntry): number {
  return Math.ceil(entry.bytes * 1.5);
}

export function placeOnnx(entry: OnnxModelEntry, inv: Inventory): Placement {
  const need = onnxFootprint(entry);
  const npu = inv.npus.find((n) => n.onnxProvider);
  if (entry.devices.includes("npu") && npu) {
    return { model: entry.id, device: "npu", onnxProvider: npu.onnxProvider, estimate: { cpuRam: need, gpuVram: 0 }, reason: `${npu.name} through onnxruntime's ${npu.onnxProvider} provider (${NPU_NOTE})` };
  }
  const offered = new Set(inv.onnxProviders.map((p) => p.name));
  const gpuProvider = inv.gpus.length > 0 ? GPU_PROVIDERS.find((name) => offered.has(name)) : undefined;
  if (entry.devices.includes("gpu") && gpuProvider) {
    return { model: entry.id, device: "gpu", onnxProvider: gpuProvider, estimate: { cpuRam: 0, gpuVram: need }, reason: `no NPU provider; ${inv.gpus[0]!.name} through ${gpuProvider}` };
  }
  if (entry.devices.includes("cpu") && need <= budget(inv.cpu.ramFreeBytes)) {
    const missing = !npu ? "no NPU provider" : "NPU not allowed for this model";
    return { model: entry.id, device: "cpu", onnxProvider: "cpu", estimate: { cpuRam: need, gpuVram: 0 }, reason: `${missing}, no usable GPU provider; CPU (${mib(need)} RAM)` };
  }
  throw new PlacementError(`model ${entry.id} fits on no device: it needs ${mib(need)} and its allowed devices are ${entry.devices.join(", ")}`);
}
