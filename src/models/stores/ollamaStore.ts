/**
 * Ollama's model store, read where it lies: `manifests/HOST/NAMESPACE/NAME/TAG` (JSON, layers by media type)
 * and `blobs/sha256-<hex>`. The model layer is the GGUF; the params layer (stop words, temperature, num_ctx) and
 * the system layer become the model's defaults; the template layer is recorded as its template override.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import type { ModelDefaults } from "../entry.js";
import type { FoundModel, ModelStore, StoreProblem, StoreScan } from "./found.js";

const MEDIA = "application/vnd.ollama.image.";

const Layer = z.object({ mediaType: z.string(), digest: z.string().regex(/^sha256:[0-9a-f]{64}$/), size: z.number().int().nonnegative() });
const OllamaManifest = z.object({ schemaVersion: z.number().optional(), layers: z.array(Layer) });

const Params = z
  .object({
    stop: z.union([z.string(), z.array(z.string())]).optional(),
    temperature: z.number().optional(),
    top_p: z.number().optional(),
    top_k: z.number().int().optional(),
    num_ctx: z.number().int().positive().optional(),
  })
  .passthrough();

/** OLLAMA_MODELS, else the user's ~/.ollama/models, else the system service's folder. */
export function ollamaRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OLLAMA_MODELS) return env.OLLAMA_MODELS;
  return [join(env.HOME ?? homedir(), ".ollama", "models"), "/usr/share/ollama/.ollama/models"].find((dir) => existsSync(dir));
}

/** Ollama's own short names: library models by name:tag, others with their namespace, other registries with the host. */
function nameOf(host: string, namespace: string, name: string, tag: string): string {
  const base = host === "registry.ollama.ai" ? (namespace === "library" ? name : `${namespace}/${name}`) : `${host}/${namespace}/${name}`;
  return `${base}:${tag}`.toLowerCase();
}

async function subdirs(dir: string): Promise<string[]> {
  const items = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return items.filter((d) => d.isDirectory()).map((d) => d.name);
}

export class OllamaStore implements ModelStore {
  readonly kind = "ollama" as const;
  constructor(readonly root: string | undefined) {}

  private blob(digest: string): string {
    return join(this.root!, "blobs", digest.replace(":", "-"));
  }

  async scan(): Promise<StoreScan> {
    const found: FoundModel[] = [];
    const problems: StoreProblem[] = [];
    if (!this.root) return { found, problems };
    const manifests = join(this.root, "manifests");
    for (const host of await subdirs(manifests))
      for (const namespace of await subdirs(join(manifests, host)))
        for (const name of await subdirs(join(manifests, host, namespace))) {
          const tags = await readdir(join(manifests, host, namespace, name)).catch(() => []);
          for (const tag of tags) {
            const path = join(manifests, host, namespace, name, tag);
            try {
              found.push(await this.read(path, nameOf(host, namespace, name, tag)));
            } catch (error) {
              problems.push({ path, reason: (error as Error).message });
            }
          }
        }
    return { found, problems };
  }

  private async read(manifestPath: string, id: string): Promise<FoundModel> {
    const parsed = OllamaManifest.safeParse(JSON.parse(await readFile(manifestPath, "utf8")));
    if (!parsed.success) throw new Error(`not an Ollama manifest: ${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}`);
    const layer = (kind: string) => parsed.data.layers.find((l) => l.mediaType === `${MEDIA}${kind}`);
    const model = layer("model");
    if (!model) throw new Error("the manifest has no model layer");
    const text = async (kind: string) => {
      const l = layer(kind);
      if (!l) return undefined;
      const path = this.blob(l.digest);
      return readFile(path, "utf8").catch(() => Promise.reject(new Error(`the ${kind} layer's blob ${l.digest} is missing (${path})`)));
    };
    const modelPath = this.blob(model.digest);
    const size = await stat(modelPath).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) throw new Error(`the model blob ${model.digest} is missing (${modelPath})`);
    const [template, system, params] = await Promise.all([text("template"), text("system"), text("params")]);
    const p = params === undefined ? undefined : Params.parse(JSON.parse(params));
    const defaults: ModelDefaults = {
      ...(system?.trim() && { system: system.trim() }),
      ...(p?.stop !== undefined && { stop: typeof p.stop === "string" ? [p.stop] : p.stop }),
      ...(p?.temperature !== undefined && { temperature: p.temperature }),
      ...(p?.top_p !== undefined && { topP: p.top_p }),
      ...(p?.top_k !== undefined && { topK: p.top_k }),
      ...(p?.num_ctx !== undefined && { contextSize: p.num_ctx }),
    };
    return {
      id,
      path: modelPath,
      sha256: model.digest.slice("sha256:".length),
      source: { kind: "ollama", detail: manifestPath, owned: false },
      ...(template?.trim() && { template: { kind: "ollama" as const, text: template, from: `${manifestPath} (template layer)` } }),
      defaults,
    };
  }
}
