/**
 * The Hugging Face hub cache, read where it lies: `models--ORG--NAME/snapshots/REV/FILE` are symlinks into
 * `blobs/`, whose names are the files' sha256 (for LFS files, which GGUFs are). The snapshot `refs/main` names
 * is served; a dangling link is reported, never served.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, readlink, realpath } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, relative, resolve, dirname } from "node:path";
import type { FoundModel, ModelStore, StoreProblem, StoreScan } from "./found.js";
import { quantInName, isFirstShard } from "./ggufFiles.js";

/** HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function huggingFaceRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.HF_HUB_CACHE ?? (env.HF_HOME ? join(env.HF_HOME, "hub") : join(env.HOME ?? homedir(), ".cache", "huggingface", "hub"));
  return existsSync(dir) ? dir : undefined;
}

async function walk(dir: string, base = dir): Promise<string[]> {
  const items = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const item of items) {
    const path = join(dir, item.name);
    if (item.isDirectory()) out.push(...(await walk(path, base)));
    else out.push(relative(base, path));
  }
  return out;
}

export class HuggingFaceCache implements ModelStore {
  readonly kind = "huggingface" as const;
  constructor(readonly root: string | undefined) {}

  async scan(): Promise<StoreScan> {
    const found: FoundModel[] = [];
    const problems: StoreProblem[] = [];
    if (!this.root) return { found, problems };
    const repos = (await readdir(this.root).catch(() => [])).filter((d) => d.startsWith("models--"));
    for (const dir of repos) {
      const [org, ...rest] = dir.slice("models--".length).split("--");
      const repo = `${org}/${rest.join("--")}`;
      const snapshots = join(this.root, dir, "snapshots");
      const revision = (await readFile(join(this.root, dir, "refs", "main"), "utf8").catch(() => "")).trim() || (await readdir(snapshots).catch(() => [])).sort().at(-1);
      if (!revision) continue;
      const files = (await walk(join(snapshots, revision))).filter((f) => f.toLowerCase().endsWith(".gguf") && isFirstShard(f) && !basename(f).startsWith("mmproj"));
      const tags = new Map<string, number>();
      for (const f of files) tags.set(quantInName(f) ?? basename(f), (tags.get(quantInName(f) ?? basename(f)) ?? 0) + 1);
      for (const file of files) {
        const link = join(snapshots, revision, file);
        try {
          const target = await realpath(link).catch(async () => {
            const to = await readlink(link).catch(() => "(not a link)");
            throw new Error(`dangling symlink to ${resolve(dirname(link), to)}`);
          });
          const blob = basename(target);
          const quant = quantInName(file);
          const tag = quant && tags.get(quant) === 1 ? quant : basename(file).replace(/\.gguf$/i, "");
          found.push({
            id: `hf.co/${repo}:${tag}`.toLowerCase().replace(/[^a-z0-9._/:-]/g, "-"),
            path: target,
            ...(/^[0-9a-f]{64}$/.test(blob) && { sha256: blob }),
            source: { kind: "huggingface", detail: `${repo}@${revision.slice(0, 12)}/${file}`, owned: false },
          });
        } catch (error) {
          problems.push({ path: link, reason: (error as Error).message });
        }
      }
    }
    return { found, problems };
  }
}
