/**
 * The tamper-evident log: every change to memory appends an entry whose hash covers the previous entry's hash,
 * over a canonical encoding (a JSON array in fixed field order). It holds hashes, never content, so it
 * survives forgetting. The previous hash is not stored again in each row: it is the previous row's hash.
 */
import { createHash } from "node:crypto";
import type { Db } from "../db/open.js";

export const GENESIS = "0".repeat(64);

export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  op: string;
  itemId: string;
  version: number;
  contentHash: string;
  prevHash: string;
  hash: string;
}

export function entryHash(e: Omit<AuditEntry, "hash">): string {
  return createHash("sha256").update(JSON.stringify([e.seq, e.at, e.actor, e.op, e.itemId, e.version, e.contentHash, e.prevHash])).digest("hex");
}

interface Row {
  seq: number;
  at: number;
  actor: string;
  op: string;
  item_id: string;
  version: number;
  content_hash: Buffer;
  hash: Buffer;
}

const hex = (b: Buffer) => b.toString("hex");
const blob = (h: string) => Buffer.from(h, "hex");

const toEntry = (r: Row, prevHash: string): AuditEntry => ({ seq: r.seq, at: r.at, actor: r.actor, op: r.op, itemId: r.item_id, version: r.version, contentHash: hex(r.content_hash), prevHash, hash: hex(r.hash) });

export class AuditChain {
  private readonly last;
  private readonly insert;
  private readonly all;
  private readonly at;

  constructor(db: Db) {
    this.last = db.prepare<[], Row>("SELECT * FROM audit ORDER BY seq DESC LIMIT 1");
    this.insert = db.prepare("INSERT INTO audit (seq, at, actor, op, item_id, version, content_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    this.all = db.prepare<[], Row>("SELECT * FROM audit ORDER BY seq");
    this.at = db.prepare<[number], Row>("SELECT * FROM audit WHERE seq = ?");
  }

  /** Call inside the write's transaction, so the entry and the change commit together. */
  append(e: Omit<AuditEntry, "seq" | "prevHash" | "hash">): AuditEntry {
    const prev = this.last.get();
    const base = { ...e, seq: (prev?.seq ?? 0) + 1, prevHash: prev ? hex(prev.hash) : GENESIS };
    const entry = { ...base, hash: entryHash(base) };
    this.insert.run(entry.seq, entry.at, entry.actor, entry.op, entry.itemId, entry.version, blob(entry.contentHash), blob(entry.hash));
    return entry;
  }

  /** The entry, its previous hash read from the row before (GENESIS for the first, "" when that row is missing). */
  entry(seq: number): AuditEntry | undefined {
    const row = this.at.get(seq);
    if (!row) return undefined;
    const prev = seq === 1 ? GENESIS : this.at.get(seq - 1);
    return toEntry(row, typeof prev === "string" ? prev : prev ? hex(prev.hash) : "");
  }

  /** Every entry in order, each linked to the row read before it. */
  *entries(): Generator<AuditEntry> {
    let prev = GENESIS;
    for (const row of this.all.iterate()) {
      const entry = toEntry(row, prev);
      prev = entry.hash;
      yield entry;
    }
  }
}

export interface ChainReport {
  ok: boolean;
  entries: number;
  /** The last entry: record it elsewhere to detect a log cut short later. */
  head?: { seq: number; hash: string };
  /** The first entry that does not hold, and why. */
  firstBroken?: { seq: number; reason: string };
}

/** Whether the entry's hash covers its fields and the hash it links to. */
const holds = ({ hash, ...rest }: AuditEntry) => entryHash(rest) === hash;

/**
 * Checks one entry where it stands: its hash over its fields and the entry before's hash, and the hash of the
 * entry after over this one's (constant time, unlike `verifyChain`, which walks the whole log).
 */
export function verifyEntryInPlace(chain: AuditChain, seq: number): string | undefined {
  const e = chain.entry(seq);
  if (!e) return `audit entry ${seq} is missing`;
  if (e.prevHash === "") return `audit entry ${seq - 1}, which entry ${seq} links to, is missing`;
  if (!holds(e)) return `audit entry ${seq} does not match its hash or its link to entry ${seq - 1}`;
  const after = chain.entry(seq + 1);
  if (after && !holds(after)) return `audit entry ${seq + 1} is not linked to entry ${seq}`;
  return undefined;
}

/** Recomputes the chain from the genesis hash. */
export function verifyChain(chain: AuditChain): ChainReport {
  let prev = GENESIS;
  let expected = 1;
  let count = 0;
  for (const e of chain.entries()) {
    count++;
    if (e.seq !== expected) return { ok: false, entries: count, firstBroken: { seq: e.seq, reason: `expected entry ${expected}: an entry was removed or inserted` } };
    if (!holds(e)) return { ok: false, entries: count, firstBroken: { seq: e.seq, reason: "its contents or its link to the previous entry do not match its hash" } };
    prev = e.hash;
    expected++;
  }
  return { ok: true, entries: count, head: count ? { seq: expected - 1, hash: prev } : undefined };
}
