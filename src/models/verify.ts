/** Nothing reads a model file, not even its header, before its size and sha256 are the ones recorded for it. */
import { stat } from "node:fs/promises";
import { EX_CONFIG } from "../exitCodes.js";
import type { ModelEntry } from "./entry.js";
import { sha256OfFile, type HashCache, type HashProgress } from "./fileHash.js";

/** A model file that is missing or not the one recorded: a restart cannot fix it (exit EX_CONFIG at startup). */
export class ModelIntegrityError extends Error {
  override name = "ModelIntegrityError";
  readonly exitCode = EX_CONFIG;
}

const recorder = (entry: ModelEntry) => (entry.source.kind === "bundled" ? "the manifest" : entry.source.kind === "user" || entry.source.kind === "hub" ? "its registry entry" : `${entry.source.kind}'s store`);

export interface VerifyOptions {
  /** Remembered hashes: an unchanged file is not read again. */
  hashes?: HashCache;
  /** Read the file even when a remembered hash would do (`edged models verify`). */
  fresh?: boolean;
  onProgress?: HashProgress;
}

/** Refuses a missing file, or one whose size or sha256 is not its entry's; returns the path and the file's hash. */
export async function verifyModelFile(entry: ModelEntry, options: VerifyOptions = {}): Promise<{ path: string; sha256: string }> {
  const { path } = entry;
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
  if (size === undefined) throw new ModelIntegrityError(`file not found: ${path}`);
  if (size !== entry.bytes) throw new ModelIntegrityError(`${path} is ${size} bytes, ${recorder(entry)} says ${entry.bytes}`);
  const digest = options.hashes ? await options.hashes.hash(path, options) : await sha256OfFile(path, options.onProgress);
  if (entry.sha256 !== undefined && digest !== entry.sha256) throw new ModelIntegrityError(`sha256 of ${path} is ${digest}, ${recorder(entry)} says ${entry.sha256}`);
  return { path, sha256: digest };
}
