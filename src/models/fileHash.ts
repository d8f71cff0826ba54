/**
 * SHA-256 of model files, remembered by the file's identity (device, inode, size, modification time in ns): a
 * restart does not read 50 GB again, and a file replaced or rewritten in place has another identity, so it is
 * hashed again before it is served.
 */
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import type { Db } from "../db/open.js";

export type HashProgress = (done: number, total: number) => void;

/** Read size per call: large enough that the hash, not the system calls, sets the pace. */
const CHUNK = 4 * 2 ** 20;

export async function sha256OfFile(path: string, onProgress?: HashProgress, signal?: AbortSignal): Promise<string> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const hash = createHash("sha256");
    // two buffers: the next chunk is read while this one is hashed
    const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let done = 0;
    let pending = file.read(buffers[0]!, 0, CHUNK, 0);
    for (let i = 0; ; i++) {
      signal?.throwIfAborted();
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      pending = file.read(buffers[(i + 1) % 2]!, 0, CHUNK, done + bytesRead);
      hash.update(buffer.subarray(0, bytesRead));
      done += bytesRead;
      onProgress?.(done, size);
    }
    return hash.digest("hex");
  } finally {
    await file.close();
  }
}

export interface FileIdentity {
  dev: string;
  ino: string;
  size: number;
  mtimeNs: string;
}

export async function identityOf(path: string): Promise<FileIdentity> {
  const s = await stat(path, { bigint: true });
  return { dev: String(s.dev), ino: String(s.ino), size: Number(s.size), mtimeNs: String(s.mtimeNs) };
}

export const HASH_CACHE_MIGRATION = `
CREATE TABLE file_hashes (
  dev TEXT NOT NULL,
  ino TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (dev, ino)
) WITHOUT ROWID;`;

export class HashCache {
  private readonly q;

  constructor(db: Db) {
    this.q = {
      get: db.prepare<[string, string], { size: number; mtime_ns: string; sha256: string }>("SELECT size, mtime_ns, sha256 FROM file_hashes WHERE dev = ? AND ino = ?"),
      put: db.prepare<[string, string, number, string, string]>(
        "INSERT INTO file_hashes (dev, ino, size, mtime_ns, sha256) VALUES (?, ?, ?, ?, ?) ON CONFLICT (dev, ino) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256",
      ),
    };
  }

  /** The cached hash of the file as it is now, if it was hashed since it last changed. */
  async cached(path: string): Promise<string | undefined> {
    const id = await identityOf(path);
    const row = this.q.get.get(id.dev, id.ino);
    return row && row.size === id.size && row.mtime_ns === id.mtimeNs ? row.sha256 : undefined;
  }

  /** Records a hash computed elsewhere (a download hashed as it was written) for the file as it is now. */
  async remember(path: string, sha256: string): Promise<void> {
    const id = await identityOf(path);
    this.q.put.run(id.dev, id.ino, id.size, id.mtimeNs, sha256);
  }

  /** The file's hash: the cached one when the file has not changed, else read and remembered. `fresh` always reads. */
  async hash(path: string, options: { onProgress?: HashProgress; fresh?: boolean; signal?: AbortSignal } = {}): Promise<string> {
    const before = await identityOf(path);
    const row = options.fresh ? undefined : this.q.get.get(before.dev, before.ino);
    if (row && row.size === before.size && row.mtime_ns === before.mtimeNs) return row.sha256;
    const digest = await sha256OfFile(path, options.onProgress, options.signal);
    const after = await identityOf(path);
    // a file written to while it was read has no single hash: remember nothing
    if (after.size === before.size && after.mtimeNs === before.mtimeNs) this.q.put.run(after.dev, after.ino, after.size, after.mtimeNs, digest);
    return digest;
  }
}
