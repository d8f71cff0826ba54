/** A catalogue entry for a GGUF file, from what its header says. */
import { stat } from "node:fs/promises";
import type { GgufFacts, LlamaModelEntry, ModelDefaults, ModelSource, TemplateOverride } from "./entry.js";
import { LlamaModelEntry as Entry } from "./entry.js";

/** Tokens per slot unless the model's store or the configuration says otherwise: long trained contexts would take GBs of KV cache. */
export const DEFAULT_CONTEXT = 4096;

export interface FileFacts {
  id: string;
  path: string;
  facts: GgufFacts;
  source: ModelSource;
  sha256?: string;
  template?: TemplateOverride;
  defaults?: ModelDefaults;
}

export async function llamaEntry(f: FileFacts): Promise<LlamaModelEntry> {
  const { size } = await stat(f.path);
  const trained = f.facts.trainedContext;
  return Entry.parse({
    id: f.id,
    engine: "llama",
    path: f.path,
    bytes: size,
    sha256: f.sha256,
    quant: f.facts.quant,
    parameters: f.facts.parameters || undefined,
    contextSize: f.defaults?.contextSize ?? Math.min(trained ?? DEFAULT_CONTEXT, DEFAULT_CONTEXT),
    description: f.facts.name,
    source: f.source,
    gguf: f.facts,
    template: f.template,
    defaults: f.defaults ?? {},
  });
}
