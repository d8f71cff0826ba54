/** What edged runs on: one zod-typed inventory of CPU, GPUs, NPUs and ONNX execution providers. */
import { z } from "zod";

export const CpuInfo = z.object({
  model: z.string(),
  arch: z.string(),
  physicalCores: z.number().int().positive(),
  logicalCores: z.number().int().positive(),
  /** Vector extensions llama.cpp and onnxruntime can use, e.g. AVX2, AVX512F, AMX, NEON, SVE. */
  simd: z.array(z.string()),
  ramTotalBytes: z.number().nonnegative(),
  /** Memory available to new work (Linux MemAvailable), not just unused pages. */
  ramFreeBytes: z.number().nonnegative(),
});

export const GpuInfo = z.object({
  backend: z.enum(["cuda", "vulkan", "metal"]),
  name: z.string(),
  vramTotalBytes: z.number().nonnegative(),
  vramFreeBytes: z.number().nonnegative(),
  /** Apple silicon and other shared-memory GPUs: VRAM is system RAM. */
  unifiedMemory: z.boolean(),
});

export const NpuInfo = z.object({
  /** Where it was found: a Linux accel device, Apple's Neural Engine, or an onnxruntime provider. */
  source: z.enum(["linux-accel", "apple-neural-engine", "onnx-provider"]),
  name: z.string(),
  /** Kernel driver of a Linux accel device (intel_vpu, amdxdna, qaic, …). */
  driver: z.string().optional(),
  device: z.string().optional(),
  /** onnxruntime provider that can drive it, when the runtime build offers one. */
  onnxProvider: z.string().optional(),
});

export const OnnxProviderInfo = z.object({ name: z.string(), bundled: z.boolean() });

export const Inventory = z.object({
  platform: z.string(),
  cpu: CpuInfo,
  gpus: z.array(GpuInfo),
  npus: z.array(NpuInfo),
  onnxProviders: z.array(OnnxProviderInfo),
});

export type CpuInfo = z.infer<typeof CpuInfo>;
export type GpuInfo = z.infer<typeof GpuInfo>;
export type NpuInfo = z.infer<typeof NpuInfo>;
export type Inventory = z.infer<typeof Inventory>;
