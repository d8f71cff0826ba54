/**
 * The tamper-evident log: every change to memory appends an entry whose hash covers the previous entry's hash,
 * over a canonical encoding (a JSON array in fixed field order). It holds hashes, never content, so it
 * survives forgetting.
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
  prev_hash: Buffer;
  hash: Buffer;
}

const hex = (b: Buffer) => b.toString("hex");
const blob = (h: string) => Buffer.from(h, "hex");

const toEntry = (r: Row): AuditEntry => ({ seq: r.seq, at: r.at, actor: r.actor, op: r.op, itemId: r.item_id, version: r.version, contentHash: hex(r.content_hash), prevHash: hex(r.prev_hash), hash: hex(r.hash) });

export class AuditChain {
  private readonly last;
  private readonly insert;
  private readonly all;
  private readonly at;

  constructor(db: Db) {
    this.last = db.prepare<[], Row>("SELECT * FROM audit ORDER BY seq DESC LIMIT 1");
    this.insert = db.prepare("INSERT INTO audit (seq, at, actor, op, item_id, version, content_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    this.all = db.prepare<[], Row>("SELECT * FROM audit ORDER BY seq");
    this.at = db.prepare<[number], Row>("SELECT * FROM audit WHERE seq = ?");
  }

  /** Call inside the write's transaction, so the entry and the change commit together. */
  append(e: Omit<AuditEntry, "seq" | "prevHash" | "hash">): AuditEntry {
    const prev = this.last.get();
    const base = { ...e, seq: (prev?.seq ?? 0) + 1, prevHash: prev ? hex(prev.hash) : GENESIS };
    const entry = { ...base, hash: entryHash(base) };
    this.insert.run(entry.seq, entry.at, entry.actor, entry.op, entry.itemId, entry.version, blob(entry.contentHash), blob(entry.prevHash), blob(entry.hash));
    return entry;
  }

  entry(seq: number): AuditEntry | undefined {
    const row = this.at.get(seq);
    return row && toEntry(row);
  }

  *entries(): Generator<AuditEntry> {
    for (const row of this.all.iterate()) yield toEntry(row);
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

/**
 * Checks one entry where it stands: its own hash, its link to the entry before, and the link of the entry after
 * (constant time, unlike `verifyChain`, which walks the whole log).
 */
export function verifyEntryInPlace(chain: AuditChain, seq: number): string | undefined {
  const e = chain.entry(seq);
  if (!e) return `audit entry ${seq} is missing`;
  const { hash, ...rest } = e;
  if (entryHash(rest) !== hash) return `audit entry ${seq} does not match its hash`;
  const before = seq === 1 ? GENESIS : chain.entry(seq - 1)?.hash;
  if (e.prevHash !== before) return `audit entry ${seq} is not linked to entry ${seq - 1}`;
  const after = chain.entry(seq + 1);
  if (after && after.prevHash !== hash) return `audit entry ${seq + 1} is not linked to entry ${seq}`;
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
    if (e.prevHash !== prev) return { ok: false, entries: count, firstBroken: { seq: e.seq, reason: "its link to the previous entry does not match" } };
    const { hash, ...rest } = e;
    if (entryHash(rest) !== hash) return { ok: false, entries: count, firstBroken: { seq: e.seq, reason: "its contents do not match its hash" } };
    prev = hash;
    expected++;
  }
  return { ok: true, entries: count, head: count ? { seq: expected - 1, hash: prev } : undefined };
}
