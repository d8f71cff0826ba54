/**
 * `edged pull` and Ollama's /api/pull: a GGUF repository on a Hugging Face-compatible hub, the quantization asked
 * for (Q4_K_M by default, as llama.cpp's -hf picks) or a named file, downloaded into DATA_DIR/models/.partial,
 * checked, moved into DATA_DIR/models/hub/ at once, and registered. A model already pulled is not fetched again.
 */
import { mkdir, rename, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { addModel, type AddDeps } from "../addModel.js";
import type { LlamaModelEntry } from "../entry.js";
import { isFirstShard, quantInName } from "../stores/ggufFiles.js";
import { HubError, type HubClient, type TreeItem } from "./hubClient.js";

export const DEFAULT_QUANT = "Q4_K_M";

export interface PullSpec {
  repo: string;
  quant?: string;
  file?: string;
  revision?: string;
}

export type PullEvent =
  | { phase: "manifest"; repo: string }
  | { phase: "download"; file: string; sha256?: string; done: number; total: number }
  | { phase: "verify"; file: string }
  | { phase: "register"; id: string };

/** `ORG/REPO`, `ORG/REPO:QUANT`, `ORG/REPO/FILE.gguf`, each optionally behind `hf.co/` or `huggingface.co/`. */
export function parsePullName(name: string): PullSpec {
  const bare = name.replace(/^(https?:\/\/)?(hf\.co|huggingface\.co)\//i, "");
  const file = /^([^/:\s]+\/[^/:\s]+)\/(.+\.gguf)$/i.exec(bare);
  if (file) return { repo: file[1]!, file: file[2]! };
  const repo = /^([^/:\s]+\/[^/:\s]+)(?::([A-Za-z0-9_.-]+))?$/.exec(bare);
  if (!repo) throw new HubError(`"${name}" names no repository: use ORG/REPO, ORG/REPO:QUANT or ORG/REPO/FILE.gguf (optionally behind hf.co/)`);
  return { repo: repo[1]!, quant: repo[2] };
}

const sha256Of = (item: TreeItem) => item.lfs?.oid;

/** The files to fetch: the named one, or the quantization's (every part of a split model), first part first. */
export function chooseFiles(spec: PullSpec, tree: readonly TreeItem[]): TreeItem[] {
  const ggufs = tree.filter((i) => i.path.toLowerCase().endsWith(".gguf") && !basename(i.path).toLowerCase().startsWith("mmproj"));
  if (ggufs.length === 0) throw new HubError(`${spec.repo} has no GGUF files`);
  if (spec.file) {
    const item = ggufs.find((i) => i.path === spec.file);
    if (!item) throw new HubError(`${spec.repo} has no file ${spec.file} (it has ${ggufs.map((i) => i.path).join(", ")})`);
    return [item];
  }
  const quant = (spec.quant ?? DEFAULT_QUANT).toUpperCase();
  const matching = ggufs.filter((i) => quantInName(i.path) === quant).sort((a, b) => a.path.localeCompare(b.path));
  const available = [...new Set(ggufs.map((i) => quantInName(i.path) ?? basename(i.path)))].join(", ");
  if (matching.length === 0) throw new HubError(`${spec.repo} has no ${quant} file (available: ${available})`);
  const first = matching.filter((i) => isFirstShard(i.path));
  if (first.length !== 1) throw new HubError(`${spec.repo} has ${first.length} ${quant} models (${first.map((i) => i.path).join(", ")}): name the file, ORG/REPO/FILE.gguf`);
  const stem = first[0]!.path.replace(/-00001-of-\d{5}\.gguf$/i, "");
  return matching.filter((i) => i === first[0] || i.path.startsWith(`${stem}-`));
}

export interface PullDeps extends AddDeps {
  hub: HubClient;
  onEvent?: (event: PullEvent) => void;
}

export async function pullModel(spec: PullSpec, deps: PullDeps): Promise<{ entry: LlamaModelEntry; pulled: boolean }> {
  deps.onEvent?.({ phase: "manifest", repo: spec.repo });
  const tree = await deps.hub.tree(spec.repo, spec.revision);
  const files = chooseFiles(spec, tree);
  const first = files[0]!;
  const tag = spec.file ? basename(first.path, ".gguf") : (spec.quant ?? DEFAULT_QUANT);
  const id = `hf.co/${spec.repo}:${tag}`.toLowerCase().replace(/[^a-z0-9._/:-]/g, "-");
  const folder = join(deps.user.dir, "hub", spec.repo.replace("/", "--"));
  const existing = deps.user.get(id);
  if (existing && existing.engine === "llama" && existing.path === join(folder, basename(first.path))) return { entry: existing, pulled: false };
  await mkdir(folder, { recursive: true });
  for (const item of files) {
    const dest = join(folder, basename(item.path));
    const size = item.lfs?.size ?? item.size;
    const whole = await stat(dest).then((s) => s.size === size, () => false);
    if (whole && (await deps.user.hashes.cached(dest)) === sha256Of(item)) continue;
    const part = join(deps.user.partialDir, `${(sha256Of(item) ?? basename(item.path)).slice(0, 64)}.part`);
    const digest = await deps.hub.download(spec.repo, item.path, part, {
      revision: spec.revision,
      expectedSha256: sha256Of(item),
      size,
      onProgress: (done, total) => deps.onEvent?.({ phase: "download", file: item.path, sha256: sha256Of(item), done, total }),
    });
    deps.onEvent?.({ phase: "verify", file: item.path });
    await rename(part, dest);
    await deps.user.hashes.remember(dest, digest);
  }
  deps.onEvent?.({ phase: "register", id });
  const entry = await addModel(
    { file: join(folder, basename(first.path)), id, mode: "in-place", source: { kind: "hub", detail: `${deps.hub.origin}/${spec.repo}/${first.path}`, owned: true } },
    deps,
  );
  return { entry, pulled: true };
}
