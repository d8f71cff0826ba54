/**
 * Memory item ids that sort by creation time: 48 bits of milliseconds, then 80 random bits, written in base64
 * with an alphabet in ASCII order. New items then land at the end of the id index and of the versions table
 * (keyed by id) instead of on a random page: at a million items a random page is a cache miss on every write.
 */
import { randomFillSync } from "node:crypto";

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const SORTABLE = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const TO_SORTABLE = new Map([...BASE64URL].map((c, i) => [c, SORTABLE[i]!]));

export function newItemId(now: number): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.min(now, 2 ** 48 - 1)), 0, 6);
  randomFillSync(bytes, 6);
  let id = "mem_";
  for (const c of bytes.toString("base64url")) id += TO_SORTABLE.get(c)!;
  return id;
}
