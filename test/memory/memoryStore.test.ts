import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { openDatabase } from "../../src/db/open.js";
import { GENESIS, entryHash } from "../../src/memory/auditChain.js";
import { MemoryNotFoundError, MemoryStore, hashContent } from "../../src/memory/memoryStore.js";
import { MEMORY_MIGRATIONS } from "../../src/memory/migrations.js";
import { ROOT, scratchDir } from "../helpers/paths.js";

const dir = scratchDir();
let n = 0;
function fresh(options: ConstructorParameters<typeof MemoryStore>[1] = {}) {
  const path = join(dir, `memory-${n++}.db`);
  return { path, store: new MemoryStore(openDatabase(path, MEMORY_MIGRATIONS), options) };
}

test("every write is a version with actor, reason and hash; rollback is a new version; old versions are pruned", () => {
  const { store } = fresh({ maxVersions: 3 });
  const item = store.create({ subject: "alice", content: "likes tea", metadata: { source: "chat" }, actor: "app", reason: "said so" });
  assert.equal(item.version, 1);
  store.update(item.id, { content: "likes coffee", actor: "app", reason: "changed her mind" });
  store.update(item.id, { metadata: { source: "form" }, actor: "admin" });
  const back = store.rollback(item.id, 2, "admin", "wrong form");
  assert.equal(back.content, "likes coffee");
  assert.deepEqual(back.metadata, { source: "chat" });
  assert.equal(back.version, 4);
  const history = store.history(item.id);
  assert.deepEqual(history.map((v) => [v.version, v.op, v.actor]), [[2, "update", "app"], [3, "update", "admin"], [4, "rollback", "admin"]]);
  assert.equal(history[0]!.reason, "changed her mind");
  assert.equal(history[2]!.content_hash, history[0]!.content_hash, "same content, same hash");
  assert.throws(() => store.rollback(item.id, 1), MemoryNotFoundError, "version 1 was pruned");
  assert.ok(store.verify().ok);
});

test("expired items are never returned and are swept (forgotten) on schedule", () => {
  let now = 1_000_000;
  const { store } = fresh({ now: () => now });
  const item = store.create({ subject: "bob", content: "temporary code 4242", ttl_ms: 60_000 });
  const keep = store.create({ subject: "bob", content: "permanent" });
  assert.equal(store.get(item.id).content, "temporary code 4242");
  now += 60_001;
  assert.throws(() => store.get(item.id), MemoryNotFoundError);
  assert.equal(store.get(keep.id).content, "permanent");
  assert.equal(store.sweepExpired(), 1);
  assert.equal(store.history(item.id).at(-1)!.op, "forget");
  assert.equal(store.history(item.id).at(-1)!.actor, "system:ttl");
  assert.equal(store.sweepExpired(), 0);
});

test("forgetting leaves no trace of the content in the database or WAL files, and its receipt checks out", async () => {
  const { path, store } = fresh();
  const secret = "Quetzalcoatl-penicillin-allergy-93817";
  const item = store.create({ subject: "carol", content: `${secret} noted at intake`, metadata: { ward: "B" } });
  store.update(item.id, { content: `${secret} confirmed by the lab` });
  store.create({ subject: "carol", content: "unrelated: prefers the window seat" });
  const receipt = store.forget(item.id, "carol", "right to erasure");
  assert.equal(receipt.content_hashes.length, 2);
  assert.deepEqual(store.checkReceipt(receipt), { ok: true });
  assert.throws(() => store.get(item.id), MemoryNotFoundError);
  for (const file of [path, `${path}-wal`]) {
    const bytes = await readFile(file).catch(() => Buffer.alloc(0));
    for (const needle of [secret, "Quetzalcoatl", "quetzalcoatl", "intake"]) assert.equal(bytes.indexOf(needle), -1, `"${needle}" found in ${file}`);
  }
  assert.ok(store.verify().ok, "the chain survives forgetting");
  assert.equal(store.history(item.id).every((v) => v.content === null), true);
});

test("an edit behind edged's back is caught: audit rows by the chain, contents by their hashes", () => {
  const { path, store } = fresh();
  const a = store.create({ subject: "dave", content: "first" });
  store.update(a.id, { content: "second" });
  store.create({ subject: "dave", content: "third" });
  assert.ok(store.verify().ok);
  const raw = new Database(path);
  raw.prepare("UPDATE audit SET actor = 'mallory' WHERE seq = 2").run();
  const broken = store.verify();
  assert.equal(broken.ok, false);
  assert.equal(broken.firstBroken!.seq, 2);
  raw.prepare("UPDATE audit SET actor = (SELECT actor FROM versions WHERE item_id = ? AND version = 2) WHERE seq = 2").run(a.id);
  assert.ok(store.verify().ok, "restored");
  raw.prepare("UPDATE versions SET content = 'forged' WHERE item_id = ? AND version = 1").run(a.id);
  assert.deepEqual(store.verify().contentMismatches, [{ itemId: a.id, version: 1 }]);
  raw.prepare("UPDATE versions SET content = 'first' WHERE item_id = ? AND version = 1").run(a.id);
  const head = store.verify().head!;
  raw.prepare("DELETE FROM audit WHERE seq = 2").run();
  assert.match(store.verify().firstBroken!.reason, /removed or inserted/);
  raw.prepare("DELETE FROM audit WHERE seq >= 3").run();
  const truncated = store.verify();
  assert.equal(truncated.ok, false, "versions without their audit entries are caught");
  assert.notEqual(truncated.head?.hash, head.hash, "and the head differs from one recorded earlier");
  raw.close();
});

const writer = (path: string, count: number, label: string) =>
  spawn(process.execPath, [join(ROOT, "dist", "test", "memory", "writer.js"), path, String(count), label], { stdio: ["ignore", "pipe", "inherit"] });

test("two processes writing at once: every write lands and the chain holds", async () => {
  const { path, store } = fresh();
  const procs = [writer(path, 150, "one"), writer(path, 150, "two")];
  const ids = await Promise.all(
    procs.map(async (p) => {
      let out = "";
      p.stdout!.on("data", (d: Buffer) => (out += d));
      const [code] = await once(p, "exit");
      assert.equal(code, 0);
      return out.trim().split("\n");
    }),
  );
  assert.equal(new Set(ids.flat()).size, 300);
  for (const id of ids.flat()) store.get(id);
  const report = store.verify();
  assert.ok(report.ok, JSON.stringify(report.firstBroken));
  assert.equal(report.entries, 300 + 100);
});

test("kill -9 during a stream of writes: the chain verifies and no acknowledged write is missing", async () => {
  const { path } = fresh();
  const p = writer(path, 100_000, "crash");
  let out = "";
  p.stdout!.on("data", (d: Buffer) => (out += d));
  while (out.split("\n").length < 300) await new Promise((r) => setTimeout(r, 10));
  p.kill("SIGKILL");
  await once(p, "exit");
  const acknowledged = out.split("\n").slice(0, -1); // the last line may be cut off
  const store = new MemoryStore(openDatabase(path, MEMORY_MIGRATIONS));
  for (const id of acknowledged) assert.match(store.get(id).content, /^crash note/);
  assert.ok(store.verify().ok);
});

test("a database of the first schema upgrades in place: versions, contents and the audit chain carry over", () => {
  const path = join(dir, "memory-v1.db");
  const v1 = openDatabase(path, MEMORY_MIGRATIONS.slice(0, 1));
  const salt = Buffer.alloc(16, 7);
  const contents = ["likes tea", "likes coffee"];
  const hashes = contents.map((c) => hashContent(salt, c));
  v1.prepare("INSERT INTO items (id, namespace, subject, content, metadata, salt, content_hash, version, created_at, updated_at) VALUES ('mem_a', 'default', 'alice', ?, '{}', ?, ?, 2, 1, 2)").run(contents[1], salt, Buffer.from(hashes[1]!, "hex"));
  v1.prepare("INSERT INTO items_fts (rowid, content) VALUES (1, ?)").run(contents[1]);
  let prevHash = GENESIS;
  contents.forEach((content, i) => {
    v1.prepare("INSERT INTO versions (item_id, version, op, actor, reason, at, content, metadata, content_hash) VALUES ('mem_a', ?, ?, 'app', '', ?, ?, '{}', ?)").run(i + 1, i ? "update" : "create", i + 1, content, Buffer.from(hashes[i]!, "hex"));
    const entry = { seq: i + 1, at: i + 1, actor: "app", op: i ? "update" : "create", itemId: "mem_a", version: i + 1, contentHash: hashes[i]!, prevHash };
    const hash = entryHash(entry);
    v1.prepare("INSERT INTO audit VALUES (?, ?, 'app', ?, 'mem_a', ?, ?, ?, ?)").run(entry.seq, entry.at, entry.op, entry.version, Buffer.from(entry.contentHash, "hex"), Buffer.from(prevHash, "hex"), Buffer.from(hash, "hex"));
    prevHash = hash;
  });
  v1.close();
  const store = new MemoryStore(openDatabase(path, MEMORY_MIGRATIONS));
  assert.deepEqual(store.history("mem_a").map((v) => v.content), contents);
  assert.equal(store.verify().ok, true);
  assert.equal(store.verify().head?.hash, prevHash);
  assert.equal(store.db.prepare("SELECT content FROM versions WHERE version = 2").pluck().get(), null, "the current text is kept once, in its item");
  assert.equal(store.rollback("mem_a", 1).content, "likes tea");
  assert.equal(store.verify().ok, true);
});

test("item ids sort by creation time, so new items append to the id index instead of landing on a random page", () => {
  let clock = 1_700_000_000_000;
  const { store } = fresh({ now: () => clock });
  const made: { id: string; at: number }[] = [];
  for (let i = 0; i < 200; i++) {
    clock += i % 3; // some in the same millisecond as the one before
    made.push({ id: store.create({ subject: "s", content: `note ${i}` }).id, at: clock });
  }
  for (let i = 1; i < made.length; i++) if (made[i]!.at > made[i - 1]!.at) assert.ok(made[i - 1]!.id < made[i]!.id, `${made[i - 1]!.id} < ${made[i]!.id}`);
  const ids = made.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.match(ids[0]!, /^mem_[-0-9A-Z_a-z]{22}$/);
});
