/**
 * The one way edged opens SQLite: WAL for concurrent readers, synchronous FULL so an acknowledged write survives
 * a power cut, secure_delete so deleted content is overwritten, and numbered migrations tracked in user_version.
 */
import Database from "better-sqlite3";

export type Db = Database.Database;

export function openDatabase(path: string, migrations: readonly string[]): Db {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
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
