/**
 * The one way edged opens SQLite: WAL for concurrent readers, secure_delete so deleted content is overwritten,
 * and numbered migrations tracked in user_version. Durability: "full" (the default) fsyncs every commit, so an
 * acknowledged write survives a power cut; "normal" fsyncs at checkpoints only — a process crash (kill -9)
 * still loses nothing, a power cut may lose the last commits, and a write costs no fsync.
 */
import Database from "better-sqlite3";

export type Db = Database.Database;
export type Durability = "full" | "normal";

export function openDatabase(path: string, migrations: readonly string[], durability: Durability = "full"): Db {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  db.pragma("secure_delete = ON");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  const current = db.pragma("user_version", { simple: true }) as number;
  db.transaction(() => {
    for (let v = current; v < migrations.length; v++) db.exec(migrations[v]!);
    db.pragma(`user_version = ${migrations.length}`);
  })();
  return db;
}
