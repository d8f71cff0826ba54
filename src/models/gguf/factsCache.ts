/** GGUF headers already read, by the file's identity: discovered stores are listed at startup without reading them again. */
import type { Llama } from "node-llama-cpp";
import type { Db } from "../../db/open.js";
import { GgufFacts } from "../entry.js";
import { identityOf } from "../fileHash.js";
import { readGgufFacts } from "./ggufFacts.js";

export const FACTS_CACHE_MIGRATION = `
CREATE TABLE gguf_facts (
  dev TEXT NOT NULL,
  ino TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,
  facts TEXT NOT NULL,
  PRIMARY KEY (dev, ino)
) WITHOUT ROWID;`;

export class FactsCache {
  private readonly q;

  constructor(db: Db) {
    this.q = {
      get: db.prepare<[string, string], { size: number; mtime_ns: string; facts: string }>("SELECT size, mtime_ns, facts FROM gguf_facts WHERE dev = ? AND ino = ?"),
      put: db.prepare<[string, string, number, string, string]>(
        "INSERT INTO gguf_facts (dev, ino, size, mtime_ns, facts) VALUES (?, ?, ?, ?, ?) ON CONFLICT (dev, ino) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, facts = excluded.facts",
      ),
    };
  }

  /** The file's facts: remembered while the file is unchanged, else read (the runtime is asked for only then). */
  async read(path: string, llama: () => Promise<Llama>): Promise<GgufFacts> {
    const id = await identityOf(path);
    const row = this.q.get.get(id.dev, id.ino);
    if (row && row.size === id.size && row.mtime_ns === id.mtimeNs) return GgufFacts.parse(JSON.parse(row.facts));
    const facts = await readGgufFacts(path, await llama());
    this.q.put.run(id.dev, id.ino, id.size, id.mtimeNs, JSON.stringify(facts));
    return facts;
  }
}
