/**
 * GGUF files in plain folders: LM Studio's `~/.lmstudio/models/PUBLISHER/REPO/*.gguf` (named publisher/repo:quant)
 * and any folder of `models.dirs` (named by the file). No store names their hashes: they are hashed on first
 * use and remembered.
 */
import { existsSync } from "node:fs";
import { readdir, realpath } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { idFromFileName } from "../modelNames.js";
import type { FoundModel, ModelStore, StoreProblem, StoreScan } from "./found.js";
import { isFirstShard, quantInName } from "./ggufFiles.js";

export function lmStudioRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = join(env.HOME ?? homedir(), ".lmstudio", "models");
  return existsSync(dir) ? dir : undefined;
}

const isModelFile = (name: string) => name.toLowerCase().endsWith(".gguf") && isFirstShard(name) && !name.toLowerCase().startsWith("mmproj");

async function ggufsIn(dir: string): Promise<string[]> {
  const items = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return items.filter((i) => (i.isFile() || i.isSymbolicLink()) && isModelFile(i.name)).map((i) => join(dir, i.name));
}

async function resolved(path: string, problems: StoreProblem[]): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    problems.push({ path, reason: "dangling symlink" });
    return undefined;
  }
}

export class LmStudioStore implements ModelStore {
  readonly kind = "lmstudio" as const;
  constructor(readonly root: string | undefined) {}

  async scan(): Promise<StoreScan> {
    const found: FoundModel[] = [];
    const problems: StoreProblem[] = [];
    if (!this.root) return { found, problems };
    for (const publisher of await readdir(this.root).catch(() => []))
      for (const repo of await readdir(join(this.root, publisher)).catch(() => [])) {
        const files = await ggufsIn(join(this.root, publisher, repo));
        for (const file of files) {
          const path = await resolved(file, problems);
          if (!path) continue;
          const quant = quantInName(file);
          const tag = quant && files.filter((f) => quantInName(f) === quant).length === 1 ? quant : basename(file).replace(/\.gguf$/i, "");
          found.push({ id: `${publisher}/${repo}:${tag}`.toLowerCase().replace(/[^a-z0-9._/:-]/g, "-"), path, source: { kind: "lmstudio", detail: file, owned: false } });
        }
      }
    return { found, problems };
  }
}

export class FolderStore implements ModelStore {
  readonly kind = "dir" as const;
  constructor(readonly root: string) {}

  async scan(): Promise<StoreScan> {
    const found: FoundModel[] = [];
    const problems: StoreProblem[] = [];
    if (!existsSync(this.root)) return { found, problems: [{ path: this.root, reason: "models.dirs names a folder that does not exist" }] };
    for (const file of await ggufsIn(this.root)) {
      const path = await resolved(file, problems);
      if (path) found.push({ id: idFromFileName(file, quantInName(file)), path, source: { kind: "dir", detail: file, owned: false } });
    }
    return { found, problems };
  }
}
