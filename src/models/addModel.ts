/**
 * Registers a GGUF in the user store: in place (the default: nothing is copied), as a hard link, or as a copy,
 * both content-addressed in DATA_DIR/models/blobs so one file shared by several names is stored once. The header
 * is read and checked, placement must find a device, the file is hashed (with progress; remembered), and only
 * then is the entry written, whole. A failure leaves no entry and no partial file.
 */
import { copyFile, link, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Llama } from "node-llama-cpp";
import { isStorageFull } from "../db/storage.js";
import { jinjaTemplateProblem } from "../engines/llama/chatTemplate.js";
import type { ModelCatalog } from "./catalog.js";
import type { LlamaModelEntry, ModelDefaults, ModelSource, TemplateOverride } from "./entry.js";
import { llamaEntry } from "./entryFromFile.js";
import type { HashProgress } from "./fileHash.js";
import { GgufFileError, readGgufFacts } from "./gguf/ggufFacts.js";
import { idFromFileName, normalizeId } from "./modelNames.js";
import type { UserStore } from "./stores/userStore.js";

export type AddMode = "in-place" | "copy" | "link";

export interface AddRequest {
  file: string;
  id?: string;
  mode?: AddMode;
  /** A Jinja chat template to use instead of the file's own. */
  templateFile?: string;
  /** A template given as text (Ollama's create: a Go template). */
  template?: TemplateOverride;
  /** Where the file came from when not from the user (a hub download, an Ollama create); the user's path otherwise. */
  source?: ModelSource;
  defaults?: ModelDefaults;
}

export interface AddDeps {
  catalog: ModelCatalog;
  user: UserStore;
  llama: Llama;
  /** Throws when the model fits on no device (the placement error). */
  place: (entry: LlamaModelEntry) => Promise<unknown>;
  onHashProgress?: HashProgress;
}

export class AddModelError extends Error {
  override name = "AddModelError";
}

async function intoBlobs(file: string, blob: string, mode: "copy" | "link"): Promise<void> {
  if (await stat(blob).then(() => true, () => false)) return; // the same content is stored already
  const temp = join(dirname(blob), `.adding-${process.pid}-${Date.now()}`);
  try {
    if (mode === "copy") await copyFile(file, temp);
    else await link(file, temp);
    await rename(temp, blob);
  } catch (error) {
    await rm(temp, { force: true });
    if ((error as NodeJS.ErrnoException).code === "EXDEV") throw new AddModelError(`${file}: --link needs the file on the data directory's filesystem; use --copy, or add it in place`);
    throw error;
  }
}

export async function addModel(request: AddRequest, deps: AddDeps): Promise<LlamaModelEntry> {
  const file = resolve(request.file);
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new AddModelError(`${file}: no such file`);
  if (!info.isFile()) throw new AddModelError(`${file}: not a file`);
  const facts = await readGgufFacts(file, deps.llama).catch((error: unknown) => {
    throw error instanceof GgufFileError ? new AddModelError(error.message) : error;
  });
  let id: string;
  try {
    id = normalizeId(request.id ?? idFromFileName(file, facts.quant));
  } catch {
    throw new AddModelError(`${file}: "${request.id}" is not a model name (lower-case name[:tag])`);
  }
  if (deps.catalog.has(id) || deps.user.get(id)) throw new AddModelError(`${file}: a model named ${id} is already registered (edged models rm ${id}, or choose --id)`);
  let template: LlamaModelEntry["template"] = request.template;
  if (request.templateFile) {
    const text = await readFile(request.templateFile, "utf8").catch((error: Error) => {
      throw new AddModelError(`${request.templateFile}: cannot read the template (${error.message})`);
    });
    const problem = jinjaTemplateProblem(text);
    if (problem) throw new AddModelError(`${request.templateFile}: the chat template does not render (${problem})`);
    template = { kind: "jinja", text, from: resolve(request.templateFile) };
  }
  const mode = request.mode ?? "in-place";
  const source: ModelSource = request.source ?? { kind: "user", detail: file, owned: mode !== "in-place" };
  const draft = await llamaEntry({ id, path: file, facts, source, template, defaults: request.defaults });
  await deps.place(draft).catch((error: Error) => {
    throw new AddModelError(`${file}: ${error.message}`);
  });
  const sha256 = await deps.user.hashes.hash(file, { onProgress: deps.onHashProgress });
  const path = mode === "in-place" ? file : deps.user.blobPath(sha256);
  try {
    if (mode !== "in-place") await intoBlobs(file, path, mode);
    const entry: LlamaModelEntry = { ...draft, path, sha256, source: { ...source, owned: mode !== "in-place" || source.owned } };
    deps.user.insert(entry);
    return entry;
  } catch (error) {
    if (mode !== "in-place" && !deps.user.entries().some((e) => e.path === path)) await rm(path, { force: true });
    if (isStorageFull(error)) throw new AddModelError(`${file}: the data directory ${deps.user.dir} is full`);
    throw error;
  }
}

/** Forgets a user-store entry; deletes the file only when edged owns it and no other entry uses it. */
export async function removeModel(id: string, deps: { catalog: ModelCatalog; user: UserStore }): Promise<{ entry: LlamaModelEntry | undefined; deleted?: string }> {
  const entry = deps.catalog.find(id) ?? deps.user.get(id);
  if (!entry) throw new AddModelError(`no model named ${id}`);
  if (entry.source.kind !== "user" && entry.source.kind !== "hub") {
    throw new AddModelError(`${entry.id} comes from ${entry.source.kind === "bundled" ? "the bundled manifest" : `${entry.source.kind}'s store (${entry.source.detail})`}; edged removes only models it registered`);
  }
  const removed = deps.user.remove(entry.id)!;
  if (removed.entry.source.owned && removed.fileUnused) {
    await rm(removed.entry.path, { force: true });
    return { entry: removed.entry as LlamaModelEntry, deleted: removed.entry.path };
  }
  return { entry: removed.entry as LlamaModelEntry };
}
