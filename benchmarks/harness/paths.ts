/** Where benchmarks read bundled files and write results, and how paths appear in committed results. */
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs from dist/benchmarks/harness/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export const resultsPath = (name: string, extension: string): string => join(ROOT, "benchmarks", "results", `${name}.${extension}`);

/** A path as results may record it: relative to the repository when inside it, else only the file name, never a machine's absolute path. */
export function displayPath(path: string): string {
  const inside = relative(ROOT, resolve(path));
  return inside && !inside.startsWith("..") && !isAbsolute(inside) ? inside : basename(path);
}
