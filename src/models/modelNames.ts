/** Model names from file names, in Ollama's `name:tag` convention. */
import { basename } from "node:path";
import { ModelId } from "./entry.js";

const clean = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9._/-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-._]+|[-._]+$/g, "");

/**
 * The id of a GGUF file: its name without `.gguf` and without the quantization, tagged with the quantization
 * (`Mistral-7B-Instruct-v0.3.Q4_K_M.gguf` -> `mistral-7b-instruct-v0.3:q4_k_m`), or `latest` when none is known.
 */
export function idFromFileName(file: string, quant?: string): string {
  let stem = basename(file).replace(/\.gguf$/i, "");
  const tag = quant && quant !== "unknown" ? quant.toLowerCase() : undefined;
  if (tag) stem = stem.replace(new RegExp(`[-._]?${tag.replace(/[.]/g, "\\.")}$`, "i"), "");
  const name = clean(stem) || "model";
  return `${name}:${tag ? clean(tag) : "latest"}`;
}

/** An id with `:latest` added when it has no tag, checked against the id rules. */
export function normalizeId(id: string): string {
  const full = id.includes(":") ? id.toLowerCase() : `${id.toLowerCase()}:latest`;
  return ModelId.parse(full);
}
