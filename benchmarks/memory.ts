/**
 * `npm run bench:memory`: the audited memory at growing sizes — write, rollback, forget-and-verify and search
 * latencies, and the database size. Items are seeded in bulk (one transaction per 1,000); the timed operations
 * go through the store one at a time, each its own durable (synchronous FULL) transaction, as the daemon does.
 * Embeddings are the bundled ONNX model's, of held-out verses, reused round-robin past the pool. Then, on a fresh
 * database, `--churn` items are each created, revised and forgotten, to measure what is kept by design after
 * forgetting (tombstones of hashes, the audit log) per million operations.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { BackgroundCheckpointer } from "../src/db/checkpointer.js";
import { openDatabase } from "../src/db/open.js";
import { OnnxEmbedder } from "../src/engines/onnx/onnxEmbedder.js";
import { MemoryStore } from "../src/memory/memoryStore.js";
import { MEMORY_MIGRATIONS } from "../src/memory/migrations.js";
import { loadManifest, type OnnxModelEntry } from "../src/models/manifest.js";
import { verifyModelFile } from "../src/models/verify.js";
import { benchFlags } from "./harness/flags.js";
import { resultsPath, ROOT } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { summarize, type Summary } from "./harness/stats.js";
import { fixed, formatTable } from "../src/report/table.js";

const Flags = z.object({
  sizes: z.string().default("10000,100000").transform((s) => s.split(",").map(Number)),
  ops: z.coerce.number().int().min(10).default(300),
  pool: z.coerce.number().int().min(10).default(2000),
  /** Items created, revised once and forgotten, for what forgetting leaves behind (0: skip). */
  churn: z.coerce.number().int().min(0).default(20_000),
  durability: z.enum(["full", "normal"]).default("full"),
  json: z.string().default(resultsPath("memory", "json")),
});
const progress = (m: string) => process.stderr.write(`bench memory: ${m}\n`);

async function timed(n: number, op: (i: number) => unknown): Promise<Summary> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    ms.push(performance.now() - t);
  }
  return summarize(ms);
}

export async function runMemoryBench(argv: string[]): Promise<void> {
  const flags = benchFlags("memory", argv, Flags);
  if (!flags) return;
  const manifest = await loadManifest();
  const entry = manifest.models.find((m) => m.id === manifest.defaults.embedding) as OnnxModelEntry;
  const embedder = await OnnxEmbedder.load((await verifyModelFile(entry)).path, entry);
  const verses = (JSON.parse(await readFile(join(ROOT, "models", "data", "heldout-pairs.json"), "utf8")) as [string, string][]).flat().slice(0, flags.pool);
  progress(`embedding ${verses.length} verses for the pool`);
  const pool: Float32Array[] = [];
  for (let i = 0; i < verses.length; i += 64) pool.push(...(await embedder.embed(verses.slice(i, i + 64))));
  const queries = verses.slice(0, 50);
  const queryVectors = await embedder.embed(queries);
  await embedder.dispose();

  interface Row {
    size: number;
    write: Summary;
    rollback: Summary;
    forget: Summary;
    semantic: Summary;
    keyword: Summary;
    hybrid: Summary;
    filteredSemantic: Summary;
    bytes: number;
    bytesPerItem: number;
  }
  const rows: Row[] = [];
  for (const size of flags.sizes) {
    const path = join(ROOT, ".cache", `bench-memory-${size}.db`);
    await rm(path, { force: true });
    await rm(`${path}-wal`, { force: true });
    const db = openDatabase(path, MEMORY_MIGRATIONS, flags.durability);
    const store = new MemoryStore(db);
    progress(`seeding ${size.toLocaleString()} items`);
    const ids: string[] = [];
    for (let start = 0; start < size; start += 1000) {
      db.transaction(() => {
        for (let i = start; i < Math.min(size, start + 1000); i++) {
          const verse = verses[i % verses.length]!;
          ids.push(store.create({ namespace: `ns${i % 10}`, subject: `user${i % 1000}`, content: `${verse} [${i}]`, metadata: { n: i % 7 } }, pool[i % pool.length]).id);
        }
      })();
    }
    db.pragma("wal_checkpoint(TRUNCATE)");
    const checkpointer = new BackgroundCheckpointer(db); // as the daemon runs it
    // the seeding's garbage is the benchmark's, not the store's: collect it before timing (needs --expose-gc)
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200)); // and let the checkpointer's thread start
    progress(`timing at ${size.toLocaleString()} items`);
    const write = await timed(flags.ops, (i) => store.create({ subject: "bench", content: `a new note ${i} about the harvest` }));
    const targets = ids.slice(0, flags.ops);
    targets.forEach((id, i) => store.update(id, { content: `revised ${i}` }));
    const rollback = await timed(flags.ops, (i) => store.rollback(targets[i]!, 1));
    const forget = await timed(Math.min(flags.ops, 100), (i) => {
      const receipt = store.forget(ids[ids.length - 1 - i]!);
      if (!store.checkReceipt(receipt).ok) throw new Error("receipt did not verify");
    });
    const search = (mode: "semantic" | "keyword" | "hybrid") => timed(flags.ops, (i) => store.search({ query: queries[i % queries.length]!, mode, k: 10 }, queryVectors[i % queries.length]));
    const searches = { semantic: await search("semantic"), keyword: await search("keyword"), hybrid: await search("hybrid") };
    const filtered = await timed(flags.ops, (i) => store.search({ query: queries[i % queries.length]!, mode: "semantic", subject: `user${i % 1000}`, k: 10 }, queryVectors[i % queries.length]));
    await checkpointer.stop();
    db.pragma("wal_checkpoint(TRUNCATE)");
    const bytes = (await stat(path)).size;
    db.close();
    rows.push({ size, write, rollback, forget, ...searches, filteredSemantic: filtered, bytes, bytesPerItem: bytes / size });
    await rm(path, { force: true });
  }
  const retained = flags.churn ? await churn(flags.churn, flags.durability, verses, pool) : undefined;
  await writeJson(flags.json, { ...reportHeader("memory"), settings: { ...flags, json: undefined }, rows, retained });
  const ms = (s: Summary) => `${fixed(s.p50, 2)} / ${fixed(s.p99, 2)}`;
  console.log(`\nmemory store (durability ${flags.durability}), ms p50 / p99 (forget includes checking its receipt)\n`);
  console.log(
    formatTable(
      [
        { header: "items", value: (r: Row) => r.size.toLocaleString() },
        { header: "write", value: (r) => ms(r.write) },
        { header: "rollback", value: (r) => ms(r.rollback) },
        { header: "forget+verify", value: (r) => ms(r.forget) },
        { header: "semantic", value: (r) => ms(r.semantic) },
        { header: "semantic, 1 subject", value: (r) => ms(r.filteredSemantic) },
        { header: "keyword", value: (r) => ms(r.keyword) },
        { header: "hybrid", value: (r) => ms(r.hybrid) },
        { header: "db MiB", value: (r) => fixed(r.bytes / 2 ** 20, 1) },
        { header: "bytes/item", value: (r) => fixed(r.bytesPerItem, 0) },
      ],
      rows,
    ),
  );
  if (retained) {
    console.log(
      `\nafter ${retained.items.toLocaleString()} items were each created, revised and forgotten (${retained.operations.toLocaleString()} operations): ` +
        `${retained.auditEntries.toLocaleString()} audit entries and ${retained.tombstones.toLocaleString()} tombstones in ${fixed(retained.usedBytes / 2 ** 20, 1)} MiB of used pages, ` +
        `${fixed(retained.bytesPerOperation, 0)} bytes per operation, ${fixed((retained.bytesPerOperation * 1e6) / 2 ** 20, 0)} MiB per million operations`,
    );
  }
  console.log(`\nJSON: ${flags.json}`);
}

/** Creates, revises and forgets `items` items on a fresh database; what its used pages hold afterwards is what forgetting keeps. */
async function churn(items: number, durability: "full" | "normal", verses: readonly string[], pool: readonly Float32Array[]) {
  const path = join(ROOT, ".cache", "bench-memory-churn.db");
  await rm(path, { force: true });
  await rm(`${path}-wal`, { force: true });
  const db = openDatabase(path, MEMORY_MIGRATIONS, durability);
  const store = new MemoryStore(db);
  const used = () => ((db.pragma("page_count", { simple: true }) as number) - (db.pragma("freelist_count", { simple: true }) as number)) * (db.pragma("page_size", { simple: true }) as number);
  const empty = used();
  progress(`creating, revising and forgetting ${items.toLocaleString()} items`);
  for (let start = 0; start < items; start += 1000) {
    const ids = db.transaction(() =>
      Array.from({ length: Math.min(items, start + 1000) - start }, (_, k) => {
        const i = start + k;
        const { id } = store.create({ subject: `user${i % 1000}`, content: `${verses[i % verses.length]!} [${i}]`, metadata: { n: i % 7 } }, pool[i % pool.length]);
        store.update(id, { content: `revised ${i}` });
        return id;
      }),
    )();
    for (const id of ids) store.forget(id); // each its own transaction, as the daemon forgets (it checkpoints after)
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  const { items: tombstones, auditEntries } = store.sizes();
  const usedBytes = used() - empty;
  db.close();
  await rm(path, { force: true });
  const operations = items * 3;
  return { items, operations, tombstones, auditEntries, usedBytes, bytesPerOperation: usedBytes / operations };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runMemoryBench(process.argv.slice(2));
