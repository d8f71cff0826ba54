/**
 * The data directory's free space, and what a full disk means to a client: a write SQLite (or the filesystem)
 * refused for lack of space becomes an InsufficientStorageError naming the directory and what is left, answered
 * 507. Nothing is restarted: SQLite rolls the refused transaction back, and the next write succeeds once space is
 * freed.
 */
import { mkdirSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from "node:fs";
import { EX_CONFIG } from "../exitCodes.js";
import { join } from "node:path";

const MiB = 2 ** 20;
/** Below this much free space the directory counts as full even before a write fails. */
export const MIN_FREE_BYTES = MiB;

export const formatBytes = (n: number) => (n >= 10 * MiB ? `${Math.round(n / MiB)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(0)} KiB` : `${n} bytes`);

/** A write refused for lack of space: SQLite's SQLITE_FULL, or the filesystem's ENOSPC / EDQUOT. */
export function isStorageFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT";
}

export class InsufficientStorageError extends Error {
  override name = "InsufficientStorageError";
  constructor(
    readonly dataDir: string,
    readonly freeBytes: number,
  ) {
    super(`The data directory ${dataDir} is full (${formatBytes(freeBytes)} free): nothing was written. Free some space there and retry.`);
  }
}

/** The data directory cannot be written at all (read-only filesystem, no permission): nothing will work until that changes. */
export class UnwritableDataDirectoryError extends Error {
  override name = "UnwritableDataDirectoryError";
  readonly exitCode = EX_CONFIG;
  constructor(dataDir: string, code: string) {
    super(`the data directory ${dataDir} cannot be written (${code === "EROFS" ? "read-only file system" : "permission denied"}): edged keeps its databases there. Make it writable, or point --data-dir (EDGED_DATA_DIR) at a writable directory.`);
  }
}

const UNWRITABLE = new Set(["EROFS", "EACCES", "EPERM"]);

export class DataDirectory {
  /** Free bytes when a write last failed for lack of space; cleared once there is more. */
  private failedAtFree: number | undefined;

  constructor(
    readonly path: string,
    private readonly statfs: (path: string) => { bavail: number; bsize: number } = statfsSync,
  ) {}

  /** Creates the directory if needed and proves it takes a write; refuses an unwritable one before any database opens. */
  ensureWritable(): void {
    const probe = join(this.path, `.write-test-${process.pid}`);
    try {
      mkdirSync(this.path, { recursive: true });
      writeFileSync(probe, "");
      rmSync(probe);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (UNWRITABLE.has(code)) throw new UnwritableDataDirectoryError(this.path, code);
      throw error;
    }
  }

  /** The SQLite files at the top of the directory (databases, their -wal and -shm) with their sizes. */
  databaseFiles(): [string, number][] {
    try {
      return readdirSync(this.path)
        .filter((name) => /\.db(-wal|-shm)?$/.test(name))
        .sort()
        .flatMap((name): [string, number][] => {
          const stat = statSync(join(this.path, name), { throwIfNoEntry: false }); // a -wal may go between the two calls
          return stat ? [[name, stat.size]] : [];
        });
    } catch {
      return [];
    }
  }

  freeBytes(): number {
    try {
      const s = this.statfs(this.path);
      return s.bavail * s.bsize;
    } catch {
      return 0;
    }
  }

  /** Full: a write failed and no space came free since, or less than MIN_FREE_BYTES is left. */
  get full(): boolean {
    const free = this.freeBytes();
    if (this.failedAtFree !== undefined && free > this.failedAtFree) this.failedAtFree = undefined;
    return this.failedAtFree !== undefined || free < MIN_FREE_BYTES;
  }

  /** What to report for an error: a full disk becomes InsufficientStorageError (and is remembered); anything else as it is. */
  explain(error: unknown): unknown {
    if (!isStorageFull(error)) return error;
    const free = this.freeBytes();
    this.failedAtFree = free;
    return new InsufficientStorageError(this.path, free);
  }
}
