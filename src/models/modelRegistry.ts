/**
 * The models a client may name: everything in the catalogue, loaded on first use with a single flight,
 * kept alive per request or by default, and unloaded least-recently-used first when memory or the
 * loaded-model limit runs out. A model in use is never unloaded.
 */
import type { LlamaChatModel } from "../engines/llama/chatModel.js";
import type { OnnxEmbedder } from "../engines/onnx/onnxEmbedder.js";
import { ApiError, apiErrors } from "../http/errors.js";
import type { MemoryEstimate, Placement } from "../scheduler/placement.js";
import type { SlotScheduler } from "../scheduler/slotScheduler.js";
import type { ModelCatalog } from "./catalog.js";
import type { Device, LlamaModelEntry, ModelEntry, OnnxModelEntry } from "./entry.js";

export interface ChatBackend {
  kind: "chat";
  entry: LlamaModelEntry;
  model: LlamaChatModel;
  scheduler: SlotScheduler;
  /** Where placement put it (the router keeps latency figures per model and device). */
  device: Device;
}

export interface EmbeddingBackend {
  kind: "embedding";
  entry: OnnxModelEntry;
  embedder: OnnxEmbedder;
}

export type Backend = ChatBackend | EmbeddingBackend;

export interface LoadedBackend {
  backend: Backend;
  dispose(): Promise<void>;
}

/** Decides where a model goes and loads it there; the daemon supplies the real one. */
export interface ModelLoader {
  place(entry: ModelEntry): Promise<Placement>;
  load(entry: ModelEntry, placement: Placement): Promise<LoadedBackend>;
}

export interface RegistryOptions {
  /** Memory the loaded models may take together (RAM, VRAM). */
  budget: MemoryEstimate;
  maxLoaded: number;
  /** Keep-alive after a request that names none; negative keeps forever. */
  defaultKeepAliveMs: number;
  now?: () => number;
  log?: (message: string) => void;
  /** Told of every model that could not be loaded (for metrics and alerts). */
  onLoadFailed?: (id: string) => void;
}

interface Resident {
  loaded: LoadedBackend;
  placement: Placement;
  inUse: number;
  lastUsed: number;
  /** When it may be unloaded if idle; Infinity for never. */
  expiresAt: number;
}

export interface ModelCard {
  id: string;
  object: "model";
  created: number;
  owned_by: "edged";
  /** Tokens one request may hold (chat models). */
  context_length?: number;
  /** Vector length (embedding models). */
  dimensions?: number;
  /** What the model can be asked for here. */
  capabilities: { chat: boolean; completion: boolean; tools: boolean; json_schema: boolean; logprobs: boolean; embeddings: boolean };
}

function cardOf(m: ModelEntry, created: number): ModelCard {
  const base = { id: m.id, object: "model" as const, created, owned_by: "edged" as const };
  if (m.engine === "onnx") return { ...base, dimensions: m.dimensions, capabilities: { chat: false, completion: false, tools: false, json_schema: false, logprobs: false, embeddings: true } };
  return { ...base, context_length: m.contextSize, capabilities: { chat: true, completion: true, tools: true, json_schema: true, logprobs: true, embeddings: false } };
}

export interface ResidentInfo {
  entry: ModelEntry;
  /** llama.cpp threads of a chat model. */
  threads?: number;
  placement: Placement;
  inUse: number;
  expiresAt: number;
}

export class ModelRegistry {
  private readonly resident = new Map<string, Resident>();
  private readonly loading = new Map<string, Promise<Resident>>();
  /** Memory promised to models being loaded, so two concurrent loads cannot both take the same room. */
  private readonly reserved = new Map<string, MemoryEstimate>();
  private readonly now: () => number;
  private readonly created = Math.floor(Date.now() / 1000);
  private sweeper: NodeJS.Timeout | undefined;
  /** Why the daemon is not ready; undefined once the configured models are loaded. */
  notReadyReason: string | undefined = "models are loading";

  constructor(
    readonly catalog: ModelCatalog,
    private readonly loader: ModelLoader,
    private readonly options: RegistryOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Every model a client may name. */
  cards(): ModelCard[] {
    return this.catalog.entries().map((m) => cardOf(m, this.created));
  }

  residents(): ResidentInfo[] {
    return [...this.resident.values()].map((r) => {
      const backend = r.loaded.backend;
      return { entry: backend.entry, placement: r.placement, inUse: r.inUse, expiresAt: r.expiresAt, threads: backend.kind === "chat" ? backend.model.threads : undefined };
    });
  }

  /** Whether the name (an id or an alias) is one of the catalogue's chat models. */
  isChat(name: string): boolean {
    return this.catalog.find(name)?.engine === "llama";
  }

  entryFor(name: string): ModelEntry {
    const entry = this.catalog.find(name);
    if (!entry) throw apiErrors.modelNotFound(name);
    return entry;
  }

  /** Loads models ahead of requests (the configured defaults), keeping them loaded. */
  async preload(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.pin(id);
    this.notReadyReason = undefined;
    this.sweeper = setInterval(() => void this.sweep(), 1000);
    this.sweeper.unref();
  }

  useChat<T>(name: string, keepAliveMs: number | undefined, fn: (b: ChatBackend) => Promise<T>): Promise<T> {
    return this.use(name, "chat", keepAliveMs, fn as (b: Backend) => Promise<T>);
  }

  useEmbedding<T>(name: string, keepAliveMs: number | undefined, fn: (b: EmbeddingBackend) => Promise<T>): Promise<T> {
    return this.use(name, "embedding", keepAliveMs, fn as (b: Backend) => Promise<T>);
  }

  private async use<T>(name: string, kind: Backend["kind"], keepAliveMs: number | undefined, fn: (b: Backend) => Promise<T>): Promise<T> {
    if (this.notReadyReason) throw apiErrors.notReady(this.notReadyReason);
    const entry = this.entryFor(name);
    const wanted = kind === "chat" ? "llama" : "onnx";
    if (entry.engine !== wanted) {
      throw apiErrors.invalidParam("model", `${entry.id} is ${entry.engine === "llama" ? "a chat model" : "an embedding model"} and cannot serve ${kind === "chat" ? "completions" : "embeddings"}`);
    }
    const r = await this.ensure(entry);
    r.inUse++;
    r.lastUsed = this.now();
    try {
      return await fn(r.loaded.backend);
    } finally {
      r.inUse--;
      r.lastUsed = this.now();
      const keep = keepAliveMs ?? this.options.defaultKeepAliveMs;
      if (r.expiresAt !== Infinity || keepAliveMs !== undefined) r.expiresAt = keep < 0 ? Infinity : r.lastUsed + keep;
      if (keep === 0) void this.sweep();
    }
  }

  /** Single flight: concurrent requests for a cold model share one load. */
  private ensure(entry: ModelEntry): Promise<Resident> {
    const ready = this.resident.get(entry.id);
    if (ready) return Promise.resolve(ready);
    let pending = this.loading.get(entry.id);
    if (!pending) {
      pending = this.loadResident(entry).finally(() => this.loading.delete(entry.id));
      this.loading.set(entry.id, pending);
    }
    return pending;
  }

  private async loadResident(entry: ModelEntry): Promise<Resident> {
    const failed = (error: unknown) => {
      this.options.onLoadFailed?.(entry.id);
      if (error instanceof ApiError) return error;
      const refused = new ApiError(500, `model ${entry.id} could not be loaded: ${(error as Error).message}`, "server_error", "model_load_failed");
      refused.cause = error; // what the exit code at startup is read from
      return refused;
    };
    const placement = await this.loader.place(entry).catch((error: unknown) => Promise.reject(failed(error)));
    await this.makeRoom(entry.id, placement.estimate);
    this.reserved.set(entry.id, placement.estimate);
    this.options.log?.(`loading ${entry.id}: ${placement.reason}`);
    const loaded = await this.loader
      .load(entry, placement)
      .catch((error: unknown) => Promise.reject(failed(error)))
      .finally(() => this.reserved.delete(entry.id));
    const r: Resident = { loaded, placement, inUse: 0, lastUsed: this.now(), expiresAt: this.now() + Math.max(0, this.options.defaultKeepAliveMs) };
    this.resident.set(entry.id, r);
    return r;
  }

  /** Unloads idle models, least recently used first, until the new one fits the budget and the count limit. */
  private async makeRoom(id: string, need: MemoryEstimate): Promise<void> {
    const fits = () => {
      const taken = [...[...this.resident.values()].map((r) => r.placement.estimate), ...this.reserved.values()];
      const used = taken.reduce((s, e) => ({ cpuRam: s.cpuRam + e.cpuRam, gpuVram: s.gpuVram + e.gpuVram }), { cpuRam: 0, gpuVram: 0 });
      return taken.length < this.options.maxLoaded && used.cpuRam + need.cpuRam <= this.options.budget.cpuRam && used.gpuVram + need.gpuVram <= this.options.budget.gpuVram;
    };
    while (!fits()) {
      const idle = [...this.resident.entries()].filter(([, r]) => r.inUse === 0 && r.expiresAt !== Infinity).sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
      const victim = idle[0];
      if (!victim) {
        throw new ApiError(503, `Not enough memory to load ${id}: the models loaded now are in use or pinned`, "server_error", "insufficient_memory", null, { "retry-after": "5" });
      }
      await this.unload(victim[0], "to make room for " + id);
    }
  }

  private async unload(id: string, why: string): Promise<void> {
    const r = this.resident.get(id);
    if (!r) return;
    this.resident.delete(id);
    this.options.log?.(`unloading ${id} (${why})`);
    await r.loaded.dispose();
  }

  /** Loads a model and keeps it loaded until it is unpinned (a default model). */
  async pin(name: string): Promise<void> {
    const r = await this.ensure(this.entryFor(name));
    r.expiresAt = Infinity;
  }

  /** A model that is no longer a default stays as long as the default keep-alive from now, as if just used. */
  unpin(name: string): void {
    const r = this.resident.get(this.entryFor(name).id);
    const keep = this.options.defaultKeepAliveMs;
    if (r?.expiresAt === Infinity) r.expiresAt = keep < 0 ? Infinity : this.now() + keep;
  }

  /** Kept loaded for as long as the daemon runs (the configured defaults). */
  isPinned(id: string): boolean {
    return this.resident.get(id)?.expiresAt === Infinity;
  }

  /** Unloads a model now if it is idle, else as soon as its last request ends. */
  async unloadIdle(id: string, why: string): Promise<void> {
    const r = this.resident.get(id);
    if (!r) return;
    if (r.inUse === 0) return this.unload(id, why);
    r.expiresAt = this.now();
  }

  /** Unloads idle models whose keep-alive has passed. */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const [id, r] of [...this.resident.entries()]) if (r.inUse === 0 && r.expiresAt <= now) await this.unload(id, "keep-alive expired");
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.loading.values()]);
    for (const id of [...this.resident.keys()]) await this.unload(id, "shutdown");
  }
}
