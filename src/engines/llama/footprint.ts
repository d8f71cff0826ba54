/** A GGUF model's memory at each offload level, from node-llama-cpp's own estimates (weights + context). */
import { GgufInsights, readGgufFileInfo, type Llama } from "node-llama-cpp";
import type { LlamaFootprint } from "../../scheduler/placement.js";

export async function llamaFootprint(llama: Llama, path: string, context: { contextSize: number; sequences: number }): Promise<LlamaFootprint> {
  const insights = await GgufInsights.from(await readGgufFileInfo(path), llama);
  return {
    totalLayers: insights.totalLayers,
    estimate(gpuLayers) {
      const model = insights.estimateModelResourceRequirements({ gpuLayers });
      const ctx = insights.estimateContextResourceRequirements({ contextSize: context.contextSize, sequences: context.sequences, modelGpuLayers: gpuLayers });
      return { cpuRam: model.cpuRam + ctx.cpuRam, gpuVram: model.gpuVram + ctx.gpuVram };
    },
  };
}
