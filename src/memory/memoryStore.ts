/**
 * Local audited memory on SQLite: items with every write versioned (actor, time, reason, content hash),
 * rollback as a new version, expiry, forgetting that removes content from items, versions, the keyword index
 * and the file itself, and a hash-chained audit log of every change.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../db/open.js";
import { AuditChain, verifyChain, verifyEntryInPlace, type ChainReport } from "./auditChain.js";
import { newItemId } from "./itemId.js";
import { VectorIndex } from "./vectorIndex.js";
import { CreateMemory, SearchMemory, UpdateMemory, type ForgetReceipt, type MemoryItem, type MemoryVersion } from "./schemas.js";

export class MemoryNotFoundError extends Error {
  override name = "MemoryNotFoundError";
}
export class MemoryConflictError extends Error {
  override name = "MemoryConflictError";
}

export interface MemoryStoreOptions {
  /** Versions kept per item; older ones are deleted. */
  maxVersions?: number;
  /** Dimensions of the embeddings given to writes. */
  dimensions?: number;
  now?: () => number;
}

export interface SearchHit {
  item: MemoryItem;
  score: number;
}

/** Words too common to rank by: matching them would only make every keyword search scan most of the index. */
const STOPWORDS = new Set(
  "a an and are as at be but by for from had has have he her his i in is it its me my of on or our she so that the their them there they this to unto was we were what when which who will with ye you your thou thee thy shall".split(" "),
);
const MAX_TERMS = 12;

/** The query's distinct words minus stop words, longest first (longer words are rarer), quoted for FTS5. */
function keywordTerms(query: string): string[] {
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])];
  const useful = words.filter((w) => !STOPWORDS.has(w));
  return (useful.length ? useful : words).sort((a, b) => b.length - a.length).slice(0, MAX_TERMS);
}

/** Reciprocal rank fusion constant: ranks deep in one list still count, the top of either list counts most. */
const RRF_K = 60;

interface ItemRow {
  key: number;
  id: string;
  namespace: string;
  subject: string;
  content: string | null;
  metadata: string;
  embedding: Buffer | null;
  salt: Buffer;
  content_hash: Buffer;
  version: number;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  forgotten_at: number | null;
}

interface VersionRow {
  item_id: string;
  version: number;
  op: MemoryVersion["op"];
  actor: string;
  reason: string;
  at: number;
  content: string | null;
  metadata: string | null;
  expires_at: number | null;
  content_hash: Buffer;
}

/** A version row with the current version's content and metadata, which only its item holds. */
const VERSION_COLUMNS = `v.item_id, v.version, v.op, v.actor, v.reason, v.at,
  IIF(v.version = i.version AND i.forgotten_at IS NULL, i.content, v.content) AS content,
  IIF(v.version = i.version AND i.forgotten_at IS NULL, i.metadata, v.metadata) AS metadata,
  v.expires_at, v.content_hash FROM versions v JOIN items i ON i.id = v.item_id`;

export const hashContent = (salt: Buffer, content: string) => createHash("sha256").update(salt).update(content, "utf8").digest("hex");

/** Embeddings are stored as int8 (a unit vector times 127): 4x smaller than float32, cosine within ~1e-2. */
/** A stored embedding (a Buffer of bytes) read as the signed int8 values it holds. */
const asInt8 = (b: Buffer) => new Int8Array(b.buffer, b.byteOffset, b.length);

export function quantizeEmbedding(v: Float32Array): Buffer {
  const out = Buffer.alloc(v.length);
  for (let i = 0; i < v.length; i++) out.writeInt8(Math.max(-127, Math.min(127, Math.round(v[i]! * 127))), i);
  return out;
}

const toItem = (r: ItemRow): MemoryItem => ({
  id: r.id,
  namespace: r.namespace,
  subject: r.subject,
  content: r.content!,
  metadata: JSON.parse(r.metadata) as MemoryItem["metadata"],
  version: r.version,
  content_hash: r.content_hash.toString("hex"),
  created_at: r.created_at,
  updated_at: r.updated_at,
  expires_at: r.expires_at,
});

const toVersion = (r: VersionRow): MemoryVersion => ({
  version: r.version,
  op: r.op,
  actor: r.actor,
  reason: r.reason,
  at: r.at,
  content: r.content,
  metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, unknown>),
  expires_at: r.expires_at,
  content_hash: r.content_hash.toString("hex"),
});

export class MemoryStore {
  readonly audit: AuditChain;
  private readonly vectors: VectorIndex;
  private readonly now: () => number;
  private readonly maxVersions: number;
  private readonly q;

  constructor(readonly db: Db, options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxVersions = options.maxVersions ?? 100;
    this.audit = new AuditChain(db);
    // FTS5 removes a deleted row's terms from the index at once instead of leaving delete markers
    db.prepare("INSERT INTO items_fts (items_fts, rank) VALUES ('secure-delete', 1)").run();
    this.q = {
      item: db.prepare<[string], ItemRow>("SELECT * FROM items WHERE id = ?"),
      insertItem: db.prepare(
        "INSERT INTO items (id, namespace, subject, content, metadata, embedding, salt, content_hash, version, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
      ),
      updateItem: db.prepare("UPDATE items SET content = ?, metadata = ?, embedding = ?, content_hash = ?, version = ?, updated_at = ?, expires_at = ? WHERE id = ?"),
      insertVersion: db.prepare(
        "INSERT INTO versions (item_id, version, op, actor, reason, at, content, metadata, expires_at, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      pruneVersions: db.prepare("DELETE FROM versions WHERE item_id = ? AND version <= ?"),
      versions: db.prepare<[string], VersionRow>(`SELECT ${VERSION_COLUMNS} WHERE v.item_id = ? ORDER BY v.version`),
      version: db.prepare<[string, number], VersionRow>(`SELECT ${VERSION_COLUMNS} WHERE v.item_id = ? AND v.version = ?`),
      supersede: db.prepare("UPDATE versions SET content = ?, metadata = ? WHERE item_id = ? AND version = ?"),
      ftsInsert: db.prepare("INSERT INTO items_fts (rowid, content) VALUES (?, ?)"),
      ftsDelete: db.prepare("INSERT INTO items_fts (items_fts, rowid, content) VALUES ('delete', ?, ?)"),
      forgetItem: db.prepare("UPDATE items SET content = NULL, metadata = '{}', embedding = NULL, version = ?, updated_at = ?, forgotten_at = ? WHERE id = ?"),
      forgetVersions: db.prepare("UPDATE versions SET content = NULL, metadata = NULL WHERE item_id = ?"),
      versionHashes: db.prepare<[string], { content_hash: Buffer }>("SELECT DISTINCT content_hash FROM versions WHERE item_id = ? AND op != 'forget'"),
      expired: db.prepare<[number], { id: string }>("SELECT id FROM items WHERE expires_at IS NOT NULL AND expires_at <= ? AND forgotten_at IS NULL"),
      keyword: db.prepare<[string, number], { key: number; rank: number }>("SELECT rowid AS key, bm25(items_fts) AS rank FROM items_fts WHERE items_fts MATCH ? ORDER BY rank LIMIT ?"),
      byKey: db.prepare<[number], ItemRow>("SELECT * FROM items WHERE key = ?"),
    };
    this.vectors = new VectorIndex(options.dimensions ?? 256);
    for (const row of db.prepare<[], { key: number; embedding: Buffer }>("SELECT key, embedding FROM items WHERE embedding IS NOT NULL AND forgotten_at IS NULL").iterate()) {
      this.vectors.set(row.key, asInt8(row.embedding));
    }
  }

  private live(id: string): ItemRow {
    const row = this.q.item.get(id);
    if (!row || row.forgotten_at !== null || (row.expires_at !== null && row.expires_at <= this.now())) throw new MemoryNotFoundError(`no memory item ${id}`);
    return row;
  }

  get(id: string): MemoryItem {
    return toItem(this.live(id));
  }

  create(input: CreateMemory, embedding?: Float32Array): MemoryItem {
    const m = CreateMemory.parse(input);
    const at = this.now();
    const id = newItemId(at);
    const salt = randomBytes(16);
    const expiresAt = m.expires_at ?? (m.ttl_ms ? at + m.ttl_ms : null);
    const hash = hashContent(salt, m.content);
    const metadata = JSON.stringify(m.metadata);
    this.db
      .transaction(() => {
        const vector = embedding ? quantizeEmbedding(embedding) : null;
        const { lastInsertRowid } = this.q.insertItem.run(id, m.namespace, m.subject, m.content, metadata, vector, salt, Buffer.from(hash, "hex"), at, at, expiresAt);
        if (vector) this.vectors.set(Number(lastInsertRowid), asInt8(vector));
        this.q.insertVersion.run(id, 1, "create", m.actor, m.reason, at, null, null, expiresAt, Buffer.from(hash, "hex"));
        this.q.ftsInsert.run(lastInsertRowid, m.content);
        this.audit.append({ at, actor: m.actor, op: "create", itemId: id, version: 1, contentHash: hash });
      })
      .immediate();
    return this.get(id);
  }

  update(id: string, input: UpdateMemory, embedding?: Float32Array): MemoryItem {
    const u = UpdateMemory.parse(input);
    return this.write(id, "update", u.actor, u.reason, (row) => ({
      content: u.content ?? row.content!,
      metadata: u.metadata === undefined ? row.metadata : JSON.stringify(u.metadata),
      expiresAt: u.expires_at === undefined ? row.expires_at : u.expires_at,
      embedding: u.content === undefined ? row.embedding : embedding ? quantizeEmbedding(embedding) : null,
    }));
  }

  /** Restores a kept version's content, metadata and expiry, as a new version. */
  rollback(id: string, version: number, actor = "api", reason = ""): MemoryItem {
    const target = this.q.version.get(id, version);
    if (!target || target.content === null) throw new MemoryNotFoundError(`item ${id} has no kept version ${version}`);
    return this.write(id, "rollback", actor, reason || `rollback to version ${version}`, (row) => ({
      content: target.content!,
      metadata: target.metadata ?? "{}",
      expiresAt: target.expires_at,
      embedding: target.content === row.content ? row.embedding : null,
    }));
  }

  private write(id: string, op: "update" | "rollback", actor: string, reason: string, next: (row: ItemRow) => { content: string; metadata: string; expiresAt: number | null; embedding: Buffer | null }): MemoryItem {
    this.db
      .transaction(() => {
        const row = this.live(id);
        const n = next(row);
        const at = this.now();
        const version = row.version + 1;
        const hash = hashContent(row.salt, n.content);
        this.q.supersede.run(row.content, row.metadata, id, row.version);
        this.q.updateItem.run(n.content, n.metadata, n.embedding, Buffer.from(hash, "hex"), version, at, n.expiresAt, id);
        this.q.insertVersion.run(id, version, op, actor, reason, at, null, null, n.expiresAt, Buffer.from(hash, "hex"));
        this.q.pruneVersions.run(id, version - this.maxVersions);
        if (n.content !== row.content) {
          this.q.ftsDelete.run(row.key, row.content);
          this.q.ftsInsert.run(row.key, n.content);
        }
        if (n.embedding) this.vectors.set(row.key, asInt8(n.embedding));
        else this.vectors.delete(row.key);
        this.audit.append({ at, actor, op, itemId: id, version, contentHash: hash });
      })
      .immediate();
    return this.get(id);
  }

  /** Live items, newest first, in a namespace and/or of a subject. */
  list(f: { namespace?: string; subject?: string; limit: number }): MemoryItem[] {
    return this.db
      .prepare<[{ namespace: string | null; subject: string | null; now: number; limit: number }], ItemRow>(
        "SELECT * FROM items WHERE (@namespace IS NULL OR namespace = @namespace) AND (@subject IS NULL OR subject = @subject) AND forgotten_at IS NULL AND (expires_at IS NULL OR expires_at > @now) ORDER BY updated_at DESC, key DESC LIMIT @limit",
      )
      .all({ namespace: f.namespace ?? null, subject: f.subject ?? null, now: this.now(), limit: f.limit })
      .map(toItem);
  }

  history(id: string): MemoryVersion[] {
    if (!this.q.item.get(id)) throw new MemoryNotFoundError(`no memory item ${id}`);
    return this.q.versions.all(id).map(toVersion);
  }

  /**
   * Removes the content from the item, every version and the keyword index, then checkpoints the WAL so no
   * page image of it is left there either; secure_delete has overwritten the freed space with zeros.
   */
  forget(id: string, actor = "api", reason = ""): ForgetReceipt {
    const receipt = this.db
      .transaction((): ForgetReceipt => {
        const row = this.q.item.get(id);
        if (!row || row.forgotten_at !== null) throw new MemoryNotFoundError(`no memory item ${id} to forget`);
        const at = this.now();
        const version = row.version + 1;
        const current = row.content_hash.toString("hex");
        const hashes = this.q.versionHashes.all(id).map((v) => v.content_hash.toString("hex"));
        if (!hashes.includes(current)) hashes.push(current);
        this.q.forgetItem.run(version, at, at, id);
        this.q.forgetVersions.run(id);
        this.q.ftsDelete.run(row.key, row.content);
        this.vectors.delete(row.key);
        this.q.insertVersion.run(id, version, "forget", actor, reason, at, null, null, null, row.content_hash);
        const entry = this.audit.append({ at, actor, op: "forget", itemId: id, version, contentHash: current });
        return { item_id: id, forgotten_at: at, content_hashes: hashes.sort(), audit_seq: entry.seq, audit_hash: entry.hash };
      })
      .immediate();
    this.db.pragma("wal_checkpoint(TRUNCATE)");
    return receipt;
  }

  /** Checks a receipt: the item holds no content anywhere, and the audit chain records the forgetting. */
  checkReceipt(receipt: ForgetReceipt): { ok: boolean; reason?: string } {
    const row = this.q.item.get(receipt.item_id);
    if (!row || row.forgotten_at === null) return { ok: false, reason: "the item is not forgotten" };
    if (row.content !== null || row.embedding !== null) return { ok: false, reason: "the item still holds content" };
    if (this.q.versions.all(receipt.item_id).some((v) => v.content !== null)) return { ok: false, reason: "a version still holds content" };
    const entry = this.audit.entry(receipt.audit_seq);
    if (!entry || entry.hash !== receipt.audit_hash || entry.op !== "forget" || entry.itemId !== receipt.item_id) return { ok: false, reason: "the audit log does not record this forgetting" };
    const broken = verifyEntryInPlace(this.audit, receipt.audit_seq);
    return broken ? { ok: false, reason: broken } : { ok: true };
  }

  /** The audit chain, and every kept version's content against its hash and its audit entry. */
  verify(): ChainReport & { contentMismatches: { itemId: string; version: number }[] } {
    const chain = verifyChain(this.audit);
    const audited = new Map<string, string>();
    for (const e of this.audit.entries()) audited.set(`${e.itemId}#${e.version}`, e.contentHash);
    const mismatches: { itemId: string; version: number }[] = [];
    const rows = this.db.prepare<[], VersionRow & { salt: Buffer }>(`SELECT i.salt, ${VERSION_COLUMNS}`).iterate();
    for (const v of rows) {
      const stored = v.content_hash.toString("hex");
      const hashOk = v.content === null || hashContent(v.salt, v.content) === stored;
      if (!hashOk || audited.get(`${v.item_id}#${v.version}`) !== stored) mismatches.push({ itemId: v.item_id, version: v.version });
    }
    return { ...chain, ok: chain.ok && mismatches.length === 0, contentMismatches: mismatches };
  }

  /** Live items by key that pass the search filters. */
  private visible(key: number, f: SearchMemory & { metadata?: Record<string, unknown> }): MemoryItem | undefined {
    const row = this.q.byKey.get(key);
    if (!row || row.forgotten_at !== null || (row.expires_at !== null && row.expires_at <= this.now())) return undefined;
    if ((f.namespace && row.namespace !== f.namespace) || (f.subject && row.subject !== f.subject)) return undefined;
    const item = toItem(row);
    if (f.metadata && !Object.entries(f.metadata).every(([k, v]) => item.metadata[k] === v)) return undefined;
    return item;
  }

  /** Keys allowed by the namespace and subject filters, for the vector scan; undefined when unfiltered. */
  private scope(f: { namespace?: string; subject?: string }): Set<number> | undefined {
    if (!f.namespace && !f.subject) return undefined;
    // only the filters given, so SQLite can use the namespace and subject indexes
    const where = [f.namespace && "namespace = @namespace", f.subject && "subject = @subject"].filter(Boolean).join(" AND ");
    const rows = this.db
      .prepare<[{ namespace?: string; subject?: string }], { key: number }>(`SELECT key FROM items WHERE ${where} AND forgotten_at IS NULL AND embedding IS NOT NULL`)
      .all({ ...(f.namespace && { namespace: f.namespace }), ...(f.subject && { subject: f.subject }) });
    return new Set(rows.map((r) => r.key));
  }

  /**
   * Semantic (cosine over int8 embeddings), keyword (FTS5 bm25) or hybrid (reciprocal rank fusion of both)
   * search, filtered by namespace, subject and metadata. `queryEmbedding` is needed for semantic and hybrid.
   */
  async search(input: SearchMemory, queryEmbedding?: Float32Array): Promise<SearchHit[]> {
    const f = SearchMemory.parse(input);
    const depth = f.k * 4; // filters applied after ranking may drop some
    const ranked = new Map<number, number>();
    const add = (keys: number[]) => keys.forEach((key, rank) => ranked.set(key, (ranked.get(key) ?? 0) + 1 / (RRF_K + rank + 1)));
    const semantic = () => {
      if (!queryEmbedding) throw new Error("semantic search needs a query embedding");
      return this.vectors.search(asInt8(quantizeEmbedding(queryEmbedding)), depth, this.scope(f));
    };
    const keyword = () => {
      const terms = keywordTerms(f.query);
      if (terms.length === 0) return [];
      return this.q.keyword.all(terms.map((t) => `"${t}"`).join(" OR "), depth).map((r) => ({ key: r.key, score: -r.rank }));
    };
    let scores: Map<number, number>;
    if (f.mode === "hybrid") {
      add((await semantic()).map((h) => h.key));
      add(keyword().map((h) => h.key));
      scores = ranked;
    } else {
      scores = new Map((f.mode === "semantic" ? await semantic() : keyword()).map((h) => [h.key, h.score]));
    }
    const hits: SearchHit[] = [];
    for (const [key, score] of [...scores.entries()].sort((a, b) => b[1] - a[1])) {
      const item = this.visible(key, f);
      if (item) hits.push({ item, score });
      if (hits.length === f.k) break;
    }
    return hits;
  }

  /** Forgets every item whose expiry has passed; returns how many. */
  /** Rows that only grow (items are tombstoned, never deleted; the audit chain is append-only), read in O(1). */
  sizes(): { items: number; auditEntries: number } {
    const row = this.db.prepare("SELECT (SELECT ifnull(max(key), 0) FROM items) AS items, (SELECT ifnull(max(seq), 0) FROM audit) AS audit").get() as { items: number; audit: number };
    return { items: row.items, auditEntries: row.audit };
  }

  sweepExpired(): number {
    const ids = this.q.expired.all(this.now()).map((r) => r.id);
    for (const id of ids) this.forget(id, "system:ttl", "expired");
    return ids.length;
  }
}
