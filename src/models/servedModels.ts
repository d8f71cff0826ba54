/** The models this daemon has loaded, looked up by the name a client sends. */
import type { LlamaChatModel } from "../engines/llama/chatModel.js";
import type { OnnxEmbedder } from "../engines/onnx/onnxEmbedder.js";
import { apiErrors } from "../http/errors.js";
import type { SlotScheduler } from "../scheduler/slotScheduler.js";
import type { LlamaModelEntry, OnnxModelEntry } from "./manifest.js";

export interface ChatBackend {
  entry: LlamaModelEntry;
  model: LlamaChatModel;
  scheduler: SlotScheduler;
}

export interface EmbeddingBackend {
  entry: OnnxModelEntry;
  embedder: OnnxEmbedder;
}

export interface ModelCard {
  id: string;
  object: "model";
  created: number;
  owned_by: "edged";
}

/** `edged-kjv` names whichever `edged-kjv:<tag>` is served. */
const matches = (id: string, requested: string) => id === requested || (!requested.includes(":") && id.split(":")[0] === requested);

export class ServedModels {
  chat?: ChatBackend;
  embedding?: EmbeddingBackend;
  /** Why the daemon is not ready yet; undefined once every configured model is loaded. */
  notReadyReason: string | undefined = "models are loading";
  private readonly created = Math.floor(Date.now() / 1000);

  cards(): ModelCard[] {
    return [this.chat, this.embedding].filter((b) => b !== undefined).map((b) => ({ id: b.entry.id, object: "model", created: this.created, owned_by: "edged" }));
  }

  private assertReady(): void {
    if (this.notReadyReason) throw apiErrors.notReady(this.notReadyReason);
  }

  resolveChat(requested: string): ChatBackend {
    this.assertReady();
    if (this.chat && matches(this.chat.entry.id, requested)) return this.chat;
    throw apiErrors.modelNotFound(requested);
  }

  resolveEmbedding(requested: string): EmbeddingBackend {
    this.assertReady();
    if (this.embedding && matches(this.embedding.entry.id, requested)) return this.embedding;
    throw apiErrors.modelNotFound(requested);
  }
}
