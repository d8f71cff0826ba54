/** Small random-weight llama GGUF files written with edged's own writer and the bundled tokenizer. */
import { join } from "node:path";
import { GgmlType } from "../../src/gguf/format.js";
import type { LlamaHyperparams } from "../../src/gguf/llamaModel.js";
import { writeSyntheticLlama } from "../../src/gguf/syntheticLlama.js";
import { readVocabulary, type Vocabulary } from "../../src/gguf/vocabulary.js";
import { MODELS } from "./paths.js";

let vocabulary: Promise<Vocabulary> | undefined;
export const bundledVocabulary = () => (vocabulary ??= readVocabulary(join(MODELS, "tokenizer", "vocabulary.json")));

export const TINY: LlamaHyperparams = {
  contextLength: 512,
  embeddingLength: 256,
  blockCount: 2,
  feedForwardLength: 512,
  headCount: 4,
  headCountKv: 2,
  rmsEpsilon: 1e-5,
  ropeFreqBase: 10000,
};

export async function writeTinyModel(dir: string, name = "tiny.gguf", hyperparams = TINY, matrixType: GgmlType.F32 | GgmlType.F16 | GgmlType.BF16 = GgmlType.F16): Promise<string> {
  const path = join(dir, name);
  await writeSyntheticLlama(path, { hyperparams, vocabulary: await bundledVocabulary(), matrixType, seed: 7 });
  return path;
}
