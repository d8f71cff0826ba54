/** The memory store with embeddings from the daemon's embedding model (none when the daemon serves none). */
import type { ModelRegistry } from "../models/modelRegistry.js";
import type { MemoryStore, SearchHit } from "./memoryStore.js";
import type { CreateMemory, MemoryItem, SearchMemory, UpdateMemory } from "./schemas.js";

export class MemoryService {
  constructor(
    readonly store: MemoryStore,
    private readonly models: ModelRegistry,
    private readonly embeddingModel: string | undefined,
  ) {}

  private async embed(text: string): Promise<Float32Array | undefined> {
    if (!this.embeddingModel) return undefined;
    return this.models.useEmbedding(this.embeddingModel, undefined, async (b) => (await b.embedder.embed([text]))[0]);
  }

  async create(input: CreateMemory): Promise<MemoryItem> {
    return this.store.create(input, await this.embed(input.content));
  }

  async update(id: string, input: UpdateMemory): Promise<MemoryItem> {
    return this.store.update(id, input, input.content === undefined ? undefined : await this.embed(input.content));
  }

  /** Hybrid and semantic search fall back to keyword search when no embedding model is served. */
  async search(input: SearchMemory): Promise<SearchHit[]> {
    const vector = input.mode === "keyword" ? undefined : await this.embed(input.query);
    return this.store.search(vector ? input : { ...input, mode: "keyword" }, vector);
  }
}
