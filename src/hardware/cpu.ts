/** CPU model, cores, vector extensions and memory, from /proc on Linux and sysctl on macOS. */
import type { CpuInfo } from "./inventory.js";
import type { ProbeSources } from "./sources.js";

/** cpuinfo flag -> the name people know; x86 `flags` and Arm `Features` lines both land here. */
const SIMD_FLAGS: Record<string, string> = {
  sse4_2: "SSE4.2",
  avx: "AVX",
  avx2: "AVX2",
  fma: "FMA",
  f16c: "F16C",
  avx_vnni: "AVX-VNNI",
  avx512f: "AVX512F",
  avx512bw: "AVX512BW",
  avx512_vnni: "AVX512-VNNI",
  avx512_bf16: "AVX512-BF16",
  amx_tile: "AMX",
  amx_int8: "AMX-INT8",
  amx_bf16: "AMX-BF16",
  asimd: "NEON",
  asimddp: "DOTPROD",
  i8mm: "I8MM",
  sve: "SVE",
  sve2: "SVE2",
  bf16: "BF16",
};

const APPLE_FEATURES: Record<string, string> = {
  "hw.optional.arm.FEAT_DotProd": "DOTPROD",
  "hw.optional.arm.FEAT_I8MM": "I8MM",
  "hw.optional.arm.FEAT_BF16": "BF16",
  "hw.optional.arm.FEAT_SME": "SME",
};

function field(cpuinfo: string, name: string): string | undefined {
  return new RegExp(`^${name}\\s*:\\s*(.*)$`, "m").exec(cpuinfo)?.[1]?.trim();
}

function linuxPhysicalCores(cpuinfo: string): number | undefined {
  const cores = new Set<string>();
  for (const block of cpuinfo.split(/\n\s*\n/)) {
    const physical = field(block, "physical id");
    const core = field(block, "core id");
    if (physical !== undefined && core !== undefined) cores.add(`${physical}:${core}`);
  }
  return cores.size || undefined;
}

function memAvailable(meminfo: string | undefined): number | undefined {
  const kb = meminfo && /^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1];
  return kb ? Number(kb) * 1024 : undefined;
}

export async function probeCpu(s: ProbeSources): Promise<CpuInfo> {
  const logical = s.logicalCpus();
  const base = {
    arch: s.arch,
    logicalCores: Math.max(1, logical.length),
    model: logical[0]?.model.trim() || "unknown",
    ramTotalBytes: s.totalMemory(),
    ramFreeBytes: s.freeMemory(),
  };
  if (s.platform === "linux") {
    const cpuinfo = (await s.readText("/proc/cpuinfo")) ?? "";
    const flags = new Set((field(cpuinfo, "flags") ?? field(cpuinfo, "Features") ?? "").split(/\s+/));
    return {
      ...base,
      model: field(cpuinfo, "model name") ?? base.model,
      physicalCores: linuxPhysicalCores(cpuinfo) ?? base.logicalCores,
      simd: Object.entries(SIMD_FLAGS).filter(([flag]) => flags.has(flag)).map(([, name]) => name),
      ramFreeBytes: memAvailable(await s.readText("/proc/meminfo")) ?? base.ramFreeBytes,
    };
  }
  if (s.platform === "darwin") {
    const sysctl = async (key: string) => (await s.run("sysctl", ["-n", key]))?.trim();
    const simd = s.arch === "arm64" ? ["NEON"] : [];
    for (const [key, name] of Object.entries(APPLE_FEATURES)) if ((await sysctl(key)) === "1") simd.push(name);
    if (s.arch === "x64") {
      const features = `${(await sysctl("machdep.cpu.features")) ?? ""} ${(await sysctl("machdep.cpu.leaf7_features")) ?? ""}`.toLowerCase().split(/\s+/);
      for (const [flag, name] of Object.entries(SIMD_FLAGS)) if (features.includes(flag.replace("_", "")) || features.includes(flag)) simd.push(name);
    }
    return { ...base, model: (await sysctl("machdep.cpu.brand_string")) ?? base.model, physicalCores: Number(await sysctl("hw.physicalcpu")) || base.logicalCores, simd };
  }
  return { ...base, physicalCores: base.logicalCores, simd: [] };
}
