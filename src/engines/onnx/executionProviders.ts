/**
 * Which onnxruntime execution provider to try first: NPU providers the runtime build offers, then GPU ones,
 * then CPU. Each candidate carries the reason it is where it is, so the final choice can be explained.
 */
export type ProviderClass = "npu" | "gpu" | "cpu";

export interface BackendInfo {
  name: string;
  /** Whether the provider's library ships inside onnxruntime-node (others need a separate install). */
  bundled: boolean;
}

export interface ProviderCandidate {
  name: string;
  class: ProviderClass;
  reason: string;
}

/** Known providers in order of preference within their class (TensorRT after CUDA: its engine builds slow every start). */
const CLASSES: Record<string, { class: ProviderClass; what: string }> = {
  qnn: { class: "npu", what: "Qualcomm Hexagon NPU" },
  openvino: { class: "npu", what: "Intel NPU through OpenVINO" },
  vitisai: { class: "npu", what: "AMD Ryzen AI NPU" },
  coreml: { class: "npu", what: "Core ML, which places work on the Apple Neural Engine" },
  cuda: { class: "gpu", what: "NVIDIA GPU through CUDA" },
  tensorrt: { class: "gpu", what: "NVIDIA GPU through TensorRT" },
  rocm: { class: "gpu", what: "AMD GPU through ROCm" },
  migraphx: { class: "gpu", what: "AMD GPU through MIGraphX" },
  dml: { class: "gpu", what: "DirectML GPU" },
  webgpu: { class: "gpu", what: "GPU through WebGPU" },
  cpu: { class: "cpu", what: "CPU" },
};
const PREFERENCE = Object.keys(CLASSES);

/** GPU-class providers, most preferred first. */
export const GPU_PROVIDERS = PREFERENCE.filter((name) => CLASSES[name]!.class === "gpu");
const ORDER: ProviderClass[] = ["npu", "gpu", "cpu"];

export interface RankOptions {
  /** The model's devices, from the manifest. */
  allowed?: readonly ProviderClass[];
  /** Whether the hardware probe found a GPU; without one, GPU providers are not tried (each failed try costs start-up time and log noise). */
  gpuPresent?: boolean;
}

/** Ranks the runtime's providers, NPU first; CPU always ends the list. */
export function rankProviders(backends: readonly BackendInfo[], { allowed = ORDER, gpuPresent = true }: RankOptions = {}): ProviderCandidate[] {
  const ranked = backends
    .filter((b) => b.name !== "cpu" && CLASSES[b.name])
    .map((b) => {
      const info = CLASSES[b.name]!;
      const install = b.bundled ? "bundled with onnxruntime-node" : "offered by the runtime, needs its own libraries";
      return { name: b.name, class: info.class, reason: `${info.what}; ${install}` };
    })
    .filter((c) => allowed.includes(c.class) && (c.class !== "gpu" || gpuPresent))
    .sort((a, b) => ORDER.indexOf(a.class) - ORDER.indexOf(b.class) || PREFERENCE.indexOf(a.name) - PREFERENCE.indexOf(b.name));
  return [...ranked, { name: "cpu", class: "cpu", reason: "CPU, always available" }];
}

export interface ProviderChoice {
  chosen: ProviderCandidate;
  /** Providers tried before the chosen one, with why each failed. */
  rejected: { name: string; error: string }[];
}

/** Tries each candidate in turn with `open` and keeps the first that works. */
export async function choose<T>(candidates: readonly ProviderCandidate[], open: (provider: string) => Promise<T>): Promise<{ value: T; choice: ProviderChoice }> {
  const rejected: ProviderChoice["rejected"] = [];
  for (const candidate of candidates) {
    try {
      return { value: await open(candidate.name), choice: { chosen: candidate, rejected } };
    } catch (error) {
      rejected.push({ name: candidate.name, error: (error as Error).message.split("\n")[0]!.slice(0, 300) });
    }
  }
  throw new Error(`no execution provider could open the model: ${rejected.map((r) => `${r.name}: ${r.error}`).join("; ")}`);
}
