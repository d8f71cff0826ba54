/**
 * What a GGUF file's header says, read with node-llama-cpp without loading the model: architecture, parameters,
 * quantization, trained context, layers, whether it has a chat template. A file that is not GGUF, is cut short
 * or has an architecture this llama.cpp cannot load is refused here, with the file and the reason.
 */
import { stat } from "node:fs/promises";
import { GgufInsights, readGgufFileInfo, type GgufFileInfo, type Llama } from "node-llama-cpp";
import { fileTypeName } from "../../quantize/fileTypes.js";
import type { GgufFacts } from "../entry.js";

export class GgufFileError extends Error {
  override name = "GgufFileError";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Arrays longer than this (the tokenizer's tokens, scores, merges) are left out of model_info, as Ollama does. */
const MAX_LISTED_ARRAY = 64;

/** The nested metadata as Ollama's dotted keys ("llama.context_length"), long arrays left out. */
function flatten(value: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  } else if (Array.isArray(value)) {
    out[prefix] = value.length > MAX_LISTED_ARRAY ? null : value;
  } else {
    out[prefix] = typeof value === "bigint" ? Number(value) : value;
  }
  return out;
}

async function readHeader(path: string): Promise<GgufFileInfo> {
  try {
    return await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false });
  } catch (error) {
    const message = (error as Error).message;
    if (/magic|not a valid gguf|invalid gguf/i.test(message)) throw new GgufFileError(path, "not a GGUF file");
    if (/ENOENT/.test(message)) throw new GgufFileError(path, "no such file");
    throw new GgufFileError(path, `unreadable GGUF header (${message.split("\n")[0]})`);
  }
}

export async function readGgufFacts(path: string, llama: Llama): Promise<GgufFacts> {
  const info = await readHeader(path);
  const insights = await GgufInsights.from(info, llama);
  const architecture = info.metadata?.general?.architecture;
  if (!architecture) throw new GgufFileError(path, "the header names no architecture (general.architecture)");
  if (!insights.isSupportedByLlamaCpp) throw new GgufFileError(path, `architecture "${architecture}" cannot be loaded by this build of llama.cpp`);
  if (info.splicedParts <= 1 && info.infoEndOffset !== undefined) {
    const { size } = await stat(path);
    const needed = info.infoEndOffset + insights.modelSize;
    if (size < needed) throw new GgufFileError(path, `truncated: the header describes at least ${needed} bytes, the file has ${size}`);
  }
  const fileType = info.metadata?.general?.file_type;
  const template = info.metadata?.tokenizer?.chat_template;
  return {
    architecture,
    name: info.metadata?.general?.name,
    parameters: insights.totalParameters,
    quant: (fileType === undefined ? undefined : fileTypeName(Number(fileType))) ?? "unknown",
    trainedContext: insights.trainContextSize,
    layers: Number(info.architectureMetadata?.block_count ?? 0),
    hasChatTemplate: typeof template === "string" && template.trim() !== "",
    metadata: flatten(info.metadata),
  };
}
