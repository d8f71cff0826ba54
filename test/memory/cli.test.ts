/** `edged memory verify` on a data directory: intact, then edited behind edged's back. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { openDatabase } from "../../src/db/open.js";
import { MemoryStore } from "../../src/memory/memoryStore.js";
import { MEMORY_MIGRATIONS } from "../../src/memory/migrations.js";
import { CLI, scratchDir } from "../helpers/paths.js";

const run = promisify(execFile);

test("edged memory verify names the first broken link", async () => {
  const dataDir = scratchDir();
  const db = openDatabase(join(dataDir, "memory.db"), MEMORY_MIGRATIONS);
  const store = new MemoryStore(db);
  for (let i = 0; i < 5; i++) store.create({ subject: "ivy", content: `note ${i}` });
  db.close();
  const ok = await run(process.execPath, [CLI, "memory", "verify", "--data-dir", dataDir]);
  assert.match(ok.stdout, /audit chain intact: 5 entries/);
  const raw = new Database(join(dataDir, "memory.db"));
  raw.prepare("UPDATE audit SET at = at + 1 WHERE seq = 3").run();
  raw.close();
  await assert.rejects(run(process.execPath, [CLI, "memory", "verify", "--data-dir", dataDir]), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, /edged memory: audit chain broken at entry 3: its contents or its link to the previous entry do not match its hash/);
    return true;
  });
  const list = await run(process.execPath, [CLI, "memory", "list", "--data-dir", dataDir, "--subject", "ivy"]);
  assert.equal(JSON.parse(list.stdout).length, 5);
});
