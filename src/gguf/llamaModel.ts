/** Lays out a llama-architecture model as GGUF: hyperparameters, tokenizer and tensors in llama.cpp's names. */
import { z } from "zod";
import { GgmlType, LlamaFileType } from "./format.js";
import { vocabularyMetadata, type Vocabulary } from "./vocabulary.js";
import { meta, type GgufFile, type GgufTensor } from "./writer.js";

export const LlamaHyperparams = z
  .object({
    contextLength: z.number().int().positive(),
    embeddingLength: z.number().int().positive(),
    blockCount: z.number().int().positive(),
    feedForwardLength: z.number().int().positive(),
    headCount: z.number().int().positive(),
    headCountKv: z.number().int().positive(),
    rmsEpsilon: z.number().positive().default(1e-5),
    ropeFreqBase: z.number().positive().default(10000),
  })
  .refine((p) => p.embeddingLength % p.headCount === 0, { message: "embeddingLength must be a multiple of headCount" })
  .refine((p) => p.headCount % p.headCountKv === 0, { message: "headCount must be a multiple of headCountKv" });
export type LlamaHyperparams = z.infer<typeof LlamaHyperparams>;

/** Supplies a tensor's values (row-major, shape[0] fastest) by its GGUF name. */
export type WeightSource = (name: string, shape: readonly number[]) => Float32Array;

/** Tensor names and ggml shapes of a llama model; matrices are [in, out] as ggml stores them. */
export function llamaTensorShapes(p: LlamaHyperparams, vocabSize: number): [string, number[]][] {
  const headDim = p.embeddingLength / p.headCount;
  const kvDim = headDim * p.headCountKv;
  const d = p.embeddingLength;
  const shapes: [string, number[]][] = [["token_embd.weight", [d, vocabSize]]];
  for (let i = 0; i < p.blockCount; i++) {
    shapes.push(
      [`blk.${i}.attn_norm.weight`, [d]],
      [`blk.${i}.attn_q.weight`, [d, d]],
      [`blk.${i}.attn_k.weight`, [d, kvDim]],
      [`blk.${i}.attn_v.weight`, [d, kvDim]],
      [`blk.${i}.attn_output.weight`, [d, d]],
      [`blk.${i}.ffn_norm.weight`, [d]],
      [`blk.${i}.ffn_gate.weight`, [d, p.feedForwardLength]],
      [`blk.${i}.ffn_up.weight`, [d, p.feedForwardLength]],
      [`blk.${i}.ffn_down.weight`, [p.feedForwardLength, d]],
    );
  }
  shapes.push(["output_norm.weight", [d]], ["output.weight", [d, vocabSize]]);
  return shapes;
}

export interface LlamaModelSpec {
  name: string;
  hyperparams: LlamaHyperparams;
  vocabulary: Vocabulary;
  weights: WeightSource;
  /** Matrices are stored in this type; norms stay F32 as llama.cpp requires. */
  matrixType?: GgmlType.F32 | GgmlType.F16 | GgmlType.BF16;
  extraMetadata?: GgufFile["metadata"];
}

const FILE_TYPE = {
  [GgmlType.F32]: LlamaFileType.ALL_F32,
  [GgmlType.F16]: LlamaFileType.MOSTLY_F16,
  [GgmlType.BF16]: LlamaFileType.MOSTLY_BF16,
};

export function llamaGguf(spec: LlamaModelSpec): GgufFile {
  const p = LlamaHyperparams.parse(spec.hyperparams);
  const matrixType = spec.matrixType ?? GgmlType.F16;
  const vocabSize = spec.vocabulary.tokens.length;
  const tensors: GgufTensor[] = llamaTensorShapes(p, vocabSize).map(([name, shape]) => ({
    name,
    shape,
    type: shape.length === 1 ? GgmlType.F32 : matrixType,
    values: () => spec.weights(name, shape),
  }));
  return {
    metadata: {
      "general.architecture": meta.str("llama"),
      "general.name": meta.str(spec.name),
      "general.file_type": meta.u32(FILE_TYPE[matrixType]),
      "llama.vocab_size": meta.u32(vocabSize),
      "llama.context_length": meta.u32(p.contextLength),
      "llama.embedding_length": meta.u32(p.embeddingLength),
      "llama.block_count": meta.u32(p.blockCount),
      "llama.feed_forward_length": meta.u32(p.feedForwardLength),
      "llama.rope.dimension_count": meta.u32(p.embeddingLength / p.headCount),
      "llama.attention.head_count": meta.u32(p.headCount),
      "llama.attention.head_count_kv": meta.u32(p.headCountKv),
      "llama.attention.layer_norm_rms_epsilon": meta.f32(p.rmsEpsilon),
      "llama.rope.freq_base": meta.f32(p.ropeFreqBase),
      ...vocabularyMetadata(spec.vocabulary),
      ...spec.extraMetadata,
    },
    tensors,
  };
}
