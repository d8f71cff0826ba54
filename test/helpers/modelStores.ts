/**
 * Other tools' model stores laid out in a temporary home, exactly as those tools write them: Ollama's manifests
 * and blobs, the Hugging Face cache's snapshots linking into blobs, LM Studio's publisher/repo folders.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeSyntheticLlama } from "../../src/gguf/syntheticLlama.js";
import { meta } from "../../src/gguf/writer.js";
import { scratchDir } from "./paths.js";
import { bundledVocabulary, TINY } from "./syntheticModel.js";

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** A tiny llama GGUF; without a chat template, or with an architecture llama.cpp does not know, when asked. */
export async function writeModel(path: string, o: { template?: boolean; architecture?: string; seed?: number } = {}): Promise<string> {
  const vocabulary = await bundledVocabulary();
  await writeSyntheticLlama(path, {
    hyperparams: TINY,
    vocabulary: o.template === false ? { ...vocabulary, chatTemplate: undefined } : vocabulary,
    seed: o.seed ?? 7,
    extraMetadata: o.architecture ? { "general.architecture": meta.str(o.architecture) } : undefined,
  });
  return path;
}

/** Ollama: `manifests/registry.ollama.ai/library/NAME/TAG` and `blobs/sha256-<hex>`, with template, system and params layers. */
export async function ollamaStore(root: string, models: { name: string; tag: string; gguf: string; template?: string; system?: string; params?: object; dropBlob?: boolean }[]): Promise<void> {
  await mkdir(join(root, "blobs"), { recursive: true });
  const blob = async (data: Buffer | string, mediaType: string) => {
    const digest = sha256(data);
    await writeFile(join(root, "blobs", `sha256-${digest}`), data);
    return { mediaType: `application/vnd.ollama.image.${mediaType}`, digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  for (const m of models) {
    const layers = [await blob(await readFile(m.gguf), "model")];
    if (m.template) layers.push(await blob(m.template, "template"));
    if (m.system) layers.push(await blob(m.system, "system"));
    if (m.params) layers.push(await blob(JSON.stringify(m.params), "params"));
    if (m.dropBlob) await rename(join(root, "blobs", layers[0]!.digest.replace(":", "-")), join(root, "blobs", "gone"));
    const config = await blob(JSON.stringify({ model_format: "gguf", model_family: "llama" }), "config");
    const dir = join(root, "manifests", "registry.ollama.ai", "library", m.name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, m.tag), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.v2+json", config, layers }));
  }
}

/** The Hugging Face hub cache: `models--ORG--NAME/{blobs,refs/main,snapshots/REV/FILE -> ../../blobs/SHA256}`. */
export async function huggingFaceCache(root: string, repo: string, files: { name: string; gguf?: string; dangling?: boolean }[]): Promise<void> {
  const base = join(root, `models--${repo.replace("/", "--")}`);
  const revision = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
  await mkdir(join(base, "blobs"), { recursive: true });
  await mkdir(join(base, "refs"), { recursive: true });
  await mkdir(join(base, "snapshots", revision), { recursive: true });
  await writeFile(join(base, "refs", "main"), revision);
  for (const f of files) {
    const digest = f.gguf && !f.dangling ? sha256(await readFile(f.gguf)) : "f".repeat(64);
    if (f.gguf && !f.dangling) await copyFile(f.gguf, join(base, "blobs", digest));
    await symlink(join("..", "..", "blobs", digest), join(base, "snapshots", revision, f.name));
  }
}

/** LM Studio: `~/.lmstudio/models/PUBLISHER/REPO/FILE.gguf`. */
export async function lmStudio(home: string, publisher: string, repo: string, files: { name: string; gguf: string }[]): Promise<void> {
  const dir = join(home, ".lmstudio", "models", publisher, repo);
  await mkdir(dir, { recursive: true });
  for (const f of files) await copyFile(f.gguf, join(dir, f.name));
}

export const freshHome = () => scratchDir("edged-home-");
