/** Memory search with the bundled ONNX embedder: semantic, keyword, hybrid, filters, and forgotten items gone. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openDatabase } from "../../src/db/open.js";
import { OnnxEmbedder } from "../../src/engines/onnx/onnxEmbedder.js";
import { loadManifest, type OnnxModelEntry } from "../../src/models/manifest.js";
import { verifyModelFile } from "../../src/models/verify.js";
import { MemoryStore } from "../../src/memory/memoryStore.js";
import { MEMORY_MIGRATIONS } from "../../src/memory/migrations.js";
import { scratchDir } from "../helpers/paths.js";

let embedder: OnnxEmbedder;
let store: MemoryStore;
const embed = async (text: string) => (await embedder.embed([text]))[0]!;
const ids: Record<string, string> = {};

before(async () => {
  const manifest = await loadManifest();
  const entry = manifest.models.find((m) => m.id === manifest.defaults.embedding) as OnnxModelEntry;
  embedder = await OnnxEmbedder.load((await verifyModelFile(entry)).path, entry);
  store = new MemoryStore(openDatabase(join(scratchDir(), "search.db"), MEMORY_MIGRATIONS));
  const notes: [string, string, string, Record<string, string>][] = [
    ["light", "erin", "And God said, Let there be light: and there was light.", { kind: "verse" }],
    ["waters", "erin", "And the Spirit of God moved upon the face of the waters.", { kind: "verse" }],
    ["judah", "erin", "The sons of Judah were Er and Onan and Shelah.", { kind: "genealogy" }],
    ["shepherd", "frank", "The LORD is my shepherd; I shall not want.", { kind: "verse" }],
    ["dinner", "frank", "Prefers dinner reservations after eight in the evening.", { kind: "preference" }],
  ];
  for (const [name, subject, content, metadata] of notes) ids[name] = store.create({ subject, content, metadata }, await embed(content)).id;
});
after(async () => {
  await embedder.dispose();
});

test("semantic search finds the neighbouring verse first (the relation the embedder was trained on)", async () => {
  const query = "And God saw the light, that it was good.";
  const hits = await store.search({ query, mode: "semantic", k: 3 }, await embed(query));
  assert.equal(hits[0]!.item.id, ids.light, JSON.stringify(hits.map((h) => [h.item.content, h.score])));
  assert.ok(hits[0]!.score > hits[2]!.score);
});

test("keyword search uses FTS5 ranking; hybrid fuses both; filters by subject and metadata apply", async () => {
  assert.deepEqual((await store.search({ query: "shepherd", mode: "keyword" })).map((h) => h.item.id), [ids.shepherd]);
  const query = "the waters of the deep";
  const hybrid = await store.search({ query, mode: "hybrid", k: 5 }, await embed(query));
  assert.equal(hybrid[0]!.item.id, ids.waters);
  const onlyFrank = await store.search({ query, mode: "hybrid", subject: "frank", k: 5 }, await embed(query));
  assert.ok(onlyFrank.length > 0 && onlyFrank.every((h) => h.item.subject === "frank"));
  const genealogy = await store.search({ query: "sons", mode: "hybrid", metadata: { kind: "genealogy" } }, await embed("sons"));
  assert.deepEqual(genealogy.map((h) => h.item.id), [ids.judah]);
});

test("a forgotten item is found by no kind of search", async () => {
  store.forget(ids.shepherd!);
  const query = "The LORD is my shepherd";
  for (const mode of ["semantic", "keyword", "hybrid"] as const) {
    assert.ok(!(await store.search({ query, mode, k: 5 }, await embed(query))).some((h) => h.item.id === ids.shepherd), mode);
  }
});
