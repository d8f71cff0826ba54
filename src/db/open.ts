/**
 * The one way edged opens SQLite: WAL for concurrent readers, secure_delete so deleted content is overwritten,
 * and numbered migrations tracked in user_version. Durability: "full" (the default) fsyncs every commit, so an
 * acknowledged write survives a power cut; "normal" fsyncs at checkpoints only — a process crash (kill -9)
 * still loses nothing, a power cut may lose the last commits, and a write costs no fsync. A damaged file (not a
 * database, truncated, or failing `PRAGMA quick_check`) is refused naming it, and never written to.
 */
import Database from "better-sqlite3";
import { EX_CONFIG } from "../exitCodes.js";

export type Db = Database.Database;
export type Durability = "full" | "normal";

/** A database file SQLite cannot trust: the daemon must not start on it, nor repair it by overwriting. */
export class DamagedDatabaseError extends Error {
  override name = "DamagedDatabaseError";
  readonly exitCode = EX_CONFIG;
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      `${path} is damaged (${reason}); edged has left it as it is. Stop edged, then restore it from a backup (and remove ${path}-wal and ${path}-shm if they are there), or move it aside to start with an empty one.`,
    );
  }
}

const DAMAGED = new Set(["SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_CORRUPT_VTAB", "SQLITE_CORRUPT_SEQUENCE", "SQLITE_CORRUPT_INDEX"]);

export function openDatabase(path: string, migrations: readonly string[], durability: Durability = "full"): Db {
  let db: Db | undefined;
  try {
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    // before anything is written: a leftover -wal was replayed by opening it, and what it left must be whole
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new DamagedDatabaseError(path, String(check));
  } catch (error) {
    db?.close();
    const code = (error as { code?: string }).code;
    if (code && DAMAGED.has(code)) throw new DamagedDatabaseError(path, (error as Error).message);
    throw error;
  }
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
