/**
 * One catalogue over every source of models, in order of precedence: the bundled manifest, the user store, then
 * the stores other tools keep (Ollama, the Hugging Face cache, LM Studio, configured folders). An id names the
 * first entry that claims it; a later one is reported as shadowed, a file that cannot be served as a problem,
 * and neither stops the others.
 */
import type { Llama } from "node-llama-cpp";
import type { ModelEntry, SourceKind } from "./entry.js";
import { llamaEntry } from "./entryFromFile.js";
import type { FactsCache } from "./gguf/factsCache.js";
import type { LoadedManifest } from "./manifest.js";
import type { ModelStore } from "./stores/found.js";
import type { UserStore } from "./stores/userStore.js";

export interface CatalogProblem {
  source: SourceKind;
  path: string;
  reason: string;
}

export interface CatalogOptions {
  bundled: LoadedManifest;
  user?: UserStore;
  stores?: readonly ModelStore[];
  /** Reads GGUF headers of discovered files (the facts cache keeps them across restarts). */
  llama?: () => Promise<Llama>;
}

export class ModelCatalog {
  private list: ModelEntry[];
  private byId: Map<string, ModelEntry>;
  problems: CatalogProblem[] = [];
  /** The default chat and embedding models (the chat one as `chooseDefaultChat` resolves it). */
  readonly defaults: { chat: string; embedding?: string };
  private configured: string | undefined;

  constructor(private readonly options: CatalogOptions) {
    this.list = [...options.bundled.models];
    this.byId = new Map(this.list.map((e) => [e.id, e]));
    this.defaults = { ...options.bundled.defaults };
  }

  get user(): UserStore | undefined {
    return this.options.user;
  }

  /** Reads every source again (the user store at once; other stores are scanned, their headers read once). */
  async refresh(): Promise<void> {
    const problems: CatalogProblem[] = [];
    const entries: ModelEntry[] = [...this.options.bundled.models, ...(this.options.user?.entries() ?? [])];
    const facts: FactsCache | undefined = this.options.user?.facts;
    for (const store of this.options.stores ?? []) {
      const scan = await store.scan();
      problems.push(...scan.problems.map((p) => ({ source: store.kind, ...p })));
      const { llama } = this.options;
      if (!llama || !facts) continue;
      for (const found of scan.found) {
        try {
          entries.push(await llamaEntry({ ...found, facts: await facts.read(found.path, llama) }));
        } catch (error) {
          problems.push({ source: store.kind, path: found.path, reason: (error as Error).message });
        }
      }
    }
    const byId = new Map<string, ModelEntry>();
    for (const entry of entries) {
      const first = byId.get(entry.id);
      if (first) problems.push({ source: entry.source.kind, path: entry.path, reason: `${entry.id} is shadowed by the ${first.source.kind} model of that name` });
      else byId.set(entry.id, entry);
    }
    this.byId = byId;
    this.list = [...byId.values()];
    const stored = this.options.user?.defaultChat;
    if (stored !== undefined && byId.get(stored)?.engine !== "llama") {
      problems.push({ source: "user", path: stored, reason: `the default chat model chosen with edged models set-default, ${stored}, is not a chat model here; ${this.options.bundled.defaults.chat} serves instead` });
    }
    this.problems = problems;
    this.chooseDefaultChat();
  }

  /**
   * The configuration's default chat model (models.chat or serve --model, as a catalogue id), which wins over the
   * one `edged models set-default` stored; undefined when the configuration names none.
   */
  set configuredChat(id: string | undefined) {
    this.configured = id;
    this.chooseDefaultChat();
  }

  get configuredChat(): string | undefined {
    return this.configured;
  }

  /** Stores the default chat model for this data directory (`edged models set-default`). */
  storeDefaultChat(id: string): void {
    if (!this.options.user) throw new Error("there is no user model store to keep the default in");
    this.options.user.defaultChat = id;
    this.chooseDefaultChat();
  }

  /** The default chat model under a configuration naming `configured` (an id) or none: it, else the stored one when it is still a chat model here, else the bundled one. */
  defaultChatFor(configured: string | undefined): string {
    const stored = this.options.user?.defaultChat;
    const usable = stored !== undefined && this.byId.get(stored)?.engine === "llama" ? stored : undefined;
    return configured ?? usable ?? this.options.bundled.defaults.chat;
  }

  private chooseDefaultChat(): void {
    this.defaults.chat = this.defaultChatFor(this.configured);
  }

  entries(): readonly ModelEntry[] {
    return this.list;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /**
   * The entry a client's name means: the exact id; `name` alone is `name:latest`, or the default among the
   * `name:<tag>` models, or the only one.
   */
  find(name: string): ModelEntry | undefined {
    const exact = this.byId.get(name) ?? this.byId.get(name.toLowerCase());
    if (exact || name.includes(":")) return exact;
    const latest = this.byId.get(`${name.toLowerCase()}:latest`);
    if (latest) return latest;
    const family = this.list.filter((m) => m.id.split(":")[0] === name.toLowerCase());
    return family.find((m) => m.id === this.defaults.chat || m.id === this.defaults.embedding) ?? (family.length === 1 ? family[0] : undefined);
  }
}
