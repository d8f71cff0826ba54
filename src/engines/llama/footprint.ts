/** A GGUF model's memory at each offload level, from node-llama-cpp's own estimates (weights + its contexts). */
import { GgufInsights, readGgufFileInfo, type Llama } from "node-llama-cpp";
import type { LlamaFootprint } from "../../scheduler/placement.js";

/** `contexts` lists each context's sequences (the shared one and the interactive one). */
export async function llamaFootprint(llama: Llama, path: string, o: { contextSize: number; contexts: readonly number[]; flashAttention: boolean }): Promise<LlamaFootprint> {
  const insights = await GgufInsights.from(await readGgufFileInfo(path), llama);
  return {
    totalLayers: insights.totalLayers,
    estimate(gpuLayers) {
      const model = insights.estimateModelResourceRequirements({ gpuLayers });
      const total = { cpuRam: model.cpuRam, gpuVram: model.gpuVram };
      for (const sequences of o.contexts) {
        const ctx = insights.estimateContextResourceRequirements({ contextSize: o.contextSize, sequences, modelGpuLayers: gpuLayers, flashAttention: o.flashAttention });
        total.cpuRam += ctx.cpuRam;
        total.gpuVram += ctx.gpuVram;
      }
      return total;
    },
  };
}
