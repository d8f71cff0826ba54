/**
 * The user's own models, in DATA_DIR/models: a registry (SQLite, so an entry is written whole or not at all),
 * the content-addressed files edged copied, linked or downloaded (`blobs/sha256-<hex>`), downloads in progress
 * (`.partial/`), and the caches of file hashes and GGUF headers.
 */
import { accessSync, constants, mkdirSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, type Db } from "../../db/open.js";
import { isStorageFull } from "../../db/storage.js";
import { ModelEntry } from "../entry.js";
import { HASH_CACHE_MIGRATION, HashCache } from "../fileHash.js";
import { FACTS_CACHE_MIGRATION, FactsCache } from "../gguf/factsCache.js";
import { THREAD_CHOICES_MIGRATION, ThreadChoices } from "../threadChoices.js";

const MIGRATIONS = [
  `CREATE TABLE models (id TEXT PRIMARY KEY, entry TEXT NOT NULL, added_at INTEGER NOT NULL) WITHOUT ROWID;
   ${HASH_CACHE_MIGRATION}
   ${FACTS_CACHE_MIGRATION}`,
  THREAD_CHOICES_MIGRATION,
  "CREATE TABLE defaults (kind TEXT PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID;",
];

/** Why the folder cannot be written to, if it cannot (a recursive mkdir on a read-only filesystem says only ENOENT). */
function writeFailure(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

export class DuplicateModelError extends Error {
  override name = "DuplicateModelError";
}

export class UserStore {
  readonly hashes: HashCache;
  readonly facts: FactsCache;
  readonly threads: ThreadChoices;
  readonly dir: string;
  private readonly q;

  private constructor(
    private readonly db: Db,
    dir: string,
  ) {
    this.dir = dir;
    this.hashes = new HashCache(db);
    this.facts = new FactsCache(db);
    this.threads = new ThreadChoices(db);
    this.q = {
      all: db.prepare<[], { entry: string }>("SELECT entry FROM models ORDER BY added_at, id"),
      get: db.prepare<[string], { entry: string }>("SELECT entry FROM models WHERE id = ?"),
      insert: db.prepare<[string, string, number]>("INSERT INTO models (id, entry, added_at) VALUES (?, ?, ?)"),
      remove: db.prepare<[string]>("DELETE FROM models WHERE id = ?"),
      getDefault: db.prepare<[string], { id: string }>("SELECT id FROM defaults WHERE kind = ?"),
      setDefault: db.prepare<[string, string]>("INSERT INTO defaults (kind, id) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET id = excluded.id"),
    };
  }

  static open(dataDir: string): UserStore {
    const dir = join(dataDir, "models");
    try {
      mkdirSync(join(dir, "blobs"), { recursive: true });
      mkdirSync(join(dir, ".partial"), { recursive: true });
      return new UserStore(openDatabase(join(dir, "registry.db"), MIGRATIONS), dir);
    } catch (error) {
      const code = writeFailure(dataDir) ?? (error as { code?: string }).code;
      if (code === "EROFS" || code === "EACCES" || code === "EPERM" || code === "SQLITE_READONLY" || code === "SQLITE_CANTOPEN") {
        throw new Error(`cannot write the model store in ${dir}: ${code === "EROFS" ? "read-only file system" : "permission denied"} (set --data-dir or EDGED_DATA_DIR to a writable folder)`);
      }
      if (isStorageFull(error)) throw new Error(`cannot write the model store in ${dir}: the data directory is full`);
      throw error;
    }
  }

  get blobsDir(): string {
    return join(this.dir, "blobs");
  }

  get partialDir(): string {
    return join(this.dir, ".partial");
  }

  blobPath(sha256: string): string {
    return join(this.blobsDir, `sha256-${sha256}`);
  }

  entries(): ModelEntry[] {
    return this.q.all.all().map((r) => ModelEntry.parse(JSON.parse(r.entry)));
  }

  get(id: string): ModelEntry | undefined {
    const row = this.q.get.get(id);
    return row ? ModelEntry.parse(JSON.parse(row.entry)) : undefined;
  }

  insert(entry: ModelEntry): void {
    if (this.get(entry.id)) throw new DuplicateModelError(`a model named ${entry.id} is already registered`);
    this.q.insert.run(entry.id, JSON.stringify(ModelEntry.parse(entry)), Date.now());
  }

  /** Forgets the entry; true when no other entry uses its file (the caller may then delete a file edged owns). */
  remove(id: string): { entry: ModelEntry; fileUnused: boolean } | undefined {
    const entry = this.get(id);
    if (!entry) return undefined;
    this.q.remove.run(id);
    return { entry, fileUnused: !this.entries().some((e) => e.path === entry.path) };
  }

  /** The default chat model `edged models set-default` chose, in place of the bundled one. */
  get defaultChat(): string | undefined {
    return this.q.getDefault.get("chat")?.id;
  }

  set defaultChat(id: string) {
    this.q.setDefault.run("chat", id);
  }

  close(): void {
    this.db.close();
  }
}
