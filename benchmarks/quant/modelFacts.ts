/** What a GGUF file is, read from its header without loading it: type, size, parameters, bits per weight. */
import { stat } from "node:fs/promises";
import { GgufInsights, readGgufFileInfo, type Llama } from "node-llama-cpp";
import { FILE_TYPES } from "../../src/quantize/fileTypes.js";

export interface ModelFacts {
  /** llama-quantize's name of the file's `general.file_type`, e.g. "Q4_K_M". */
  type: string;
  fileBytes: number;
  parameters: number;
  /** Tensor data bits per parameter, as llama.cpp's "BPW" (the file's metadata and tokenizer are not weights). */
  bitsPerWeight: number;
}

const UNQUANTIZED = new Set(["F32", "F16", "BF16"]);

export async function modelFacts(llama: Llama, path: string): Promise<ModelFacts> {
  const info = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false });
  const insights = await GgufInsights.from(info, llama);
  const ftype = (info.metadata as { general?: { file_type?: number } }).general?.file_type;
  // Aliases (Q4_K for Q4_K_M) share an ftype; the first name listed for a value is llama-quantize's own.
  const type = Object.entries(FILE_TYPES).find(([name, t]) => t.ftype === ftype && !/^Q\d_K$/.test(name))?.[0] ?? `ftype ${ftype}`;
  return {
    type,
    fileBytes: (await stat(path)).size,
    parameters: insights.totalParameters,
    bitsPerWeight: (insights.modelSize * 8) / insights.totalParameters,
  };
}

export const isUnquantized = (facts: ModelFacts) => UNQUANTIZED.has(facts.type);
