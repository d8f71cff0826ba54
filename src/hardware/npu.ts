/** NPUs: Linux accel devices with their drivers, Apple's Neural Engine, and onnxruntime's NPU providers. */
import { basename } from "node:path";
import type { NpuInfo } from "./inventory.js";
import type { ProbeSources } from "./sources.js";

/** Known accel drivers, what they drive, and the onnxruntime provider that can use them. */
const ACCEL_DRIVERS: Record<string, { name: string; onnxProvider?: string }> = {
  intel_vpu: { name: "Intel NPU", onnxProvider: "openvino" },
  amdxdna: { name: "AMD XDNA NPU (Ryzen AI)", onnxProvider: "vitisai" },
  qaic: { name: "Qualcomm Cloud AI accelerator" },
  habanalabs: { name: "Intel Gaudi accelerator" },
};

const NPU_PROVIDERS: Record<string, string> = {
  qnn: "Qualcomm Hexagon NPU through QNN",
  openvino: "Intel NPU through OpenVINO",
  vitisai: "AMD Ryzen AI NPU through Vitis AI",
};

export async function probeNpus(s: ProbeSources, onnxProviders: readonly { name: string }[]): Promise<NpuInfo[]> {
  const offered = new Set(onnxProviders.map((p) => p.name));
  const npus: NpuInfo[] = [];
  if (s.platform === "linux") {
    const nodes = new Set(await s.list("/dev/accel"));
    for (const accel of (await s.list("/sys/class/accel")).sort()) {
      const link = await s.link(`/sys/class/accel/${accel}/device/driver`);
      const driver = link ? basename(link) : "unknown";
      const known = ACCEL_DRIVERS[driver];
      npus.push({
        source: "linux-accel",
        name: known?.name ?? `accelerator (${driver})`,
        driver,
        device: nodes.has(accel) ? `/dev/accel/${accel}` : undefined,
        onnxProvider: known?.onnxProvider && offered.has(known.onnxProvider) ? known.onnxProvider : undefined,
      });
    }
  }
  if (s.platform === "darwin" && s.arch === "arm64") {
    npus.push({ source: "apple-neural-engine", name: "Apple Neural Engine", onnxProvider: offered.has("coreml") ? "coreml" : undefined });
  }
  const claimed = new Set(npus.map((n) => n.onnxProvider));
  for (const [provider, name] of Object.entries(NPU_PROVIDERS)) {
    if (offered.has(provider) && !claimed.has(provider)) npus.push({ source: "onnx-provider", name, onnxProvider: provider });
  }
  return npus;
}
