/** The catalogue a configuration describes: the bundled manifest, the user store and the stores it discovers. */
import type { Llama } from "node-llama-cpp";
import type { Config } from "../config/schema.js";
import { ModelCatalog } from "./catalog.js";
import { loadManifest } from "./manifest.js";
import type { ModelStore } from "./stores/found.js";
import { FolderStore, LmStudioStore, lmStudioRoot } from "./stores/folderStore.js";
import { HuggingFaceCache, huggingFaceRoot } from "./stores/huggingFaceCache.js";
import { OllamaStore, ollamaRoot } from "./stores/ollamaStore.js";
import { UserStore } from "./stores/userStore.js";

export function discoveredStores(models: Config["models"], env: NodeJS.ProcessEnv = process.env): ModelStore[] {
  return [
    ...(models.discover.ollama ? [new OllamaStore(ollamaRoot(env))] : []),
    ...(models.discover.huggingface ? [new HuggingFaceCache(huggingFaceRoot(env))] : []),
    ...(models.discover.lmstudio ? [new LmStudioStore(lmStudioRoot(env))] : []),
    ...models.dirs.map((dir) => new FolderStore(dir)),
  ];
}

export async function openCatalog(config: Pick<Config, "models" | "dataDir">, llama: () => Promise<Llama>, env: NodeJS.ProcessEnv = process.env): Promise<ModelCatalog> {
  const bundled = await loadManifest(config.models.manifest);
  const user = UserStore.open(config.dataDir);
  const catalog = new ModelCatalog({ bundled, user, stores: discoveredStores(config.models, env), llama });
  await catalog.refresh();
  return catalog;
}
