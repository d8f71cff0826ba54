/** The tokenizer a llama GGUF carries: SentencePiece-style pieces with scores, types and special ids. */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { meta, type GgufMetadata } from "./writer.js";

export const Vocabulary = z
  .object({
    model: z.literal("llama"),
    tokens: z.array(z.string()).min(1),
    scores: z.array(z.number()),
    types: z.array(z.number().int().min(1).max(6)),
    bos: z.number().int().nonnegative(),
    eos: z.number().int().nonnegative(),
    eot: z.number().int().nonnegative().optional(),
    unk: z.number().int().nonnegative(),
    pad: z.number().int().nonnegative().optional(),
    addBos: z.boolean(),
    chatTemplate: z.string().optional(),
  })
  .refine((v) => v.scores.length === v.tokens.length && v.types.length === v.tokens.length, {
    message: "tokens, scores and types must have the same length",
  })
  .refine((v) => [v.bos, v.eos, v.unk, v.eot ?? 0, v.pad ?? 0].every((id) => id < v.tokens.length), {
    message: "special token ids must be inside the vocabulary",
  });
export type Vocabulary = z.infer<typeof Vocabulary>;

export async function readVocabulary(path: string): Promise<Vocabulary> {
  return Vocabulary.parse(JSON.parse(await readFile(path, "utf8")));
}

export function vocabularyMetadata(v: Vocabulary): GgufMetadata {
  const m: GgufMetadata = {
    "tokenizer.ggml.model": meta.str(v.model),
    "tokenizer.ggml.pre": meta.str("default"),
    "tokenizer.ggml.tokens": meta.strings(v.tokens),
    "tokenizer.ggml.scores": meta.f32s(v.scores),
    "tokenizer.ggml.token_type": meta.i32s(v.types),
    "tokenizer.ggml.bos_token_id": meta.u32(v.bos),
    "tokenizer.ggml.eos_token_id": meta.u32(v.eos),
    "tokenizer.ggml.unknown_token_id": meta.u32(v.unk),
    "tokenizer.ggml.add_bos_token": meta.bool(v.addBos),
    "tokenizer.ggml.add_eos_token": meta.bool(false),
  };
  if (v.eot !== undefined) m["tokenizer.ggml.eot_token_id"] = meta.u32(v.eot);
  if (v.pad !== undefined) m["tokenizer.ggml.padding_token_id"] = meta.u32(v.pad);
  if (v.chatTemplate) m["tokenizer.chat_template"] = meta.str(v.chatTemplate);
  return m;
}
