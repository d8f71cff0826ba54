/** Locations the tests share: the repository root, the bundled models, a scratch folder per test file. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const MODELS = join(ROOT, "models");
export const CLI = join(ROOT, "dist", "src", "cli", "edged.cjs");

/** A fresh temporary folder, removed when the process exits. */
export function scratchDir(prefix = "edged-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
