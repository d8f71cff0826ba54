/**
 * Models found where other tools keep them, read in place: Ollama's manifests and blobs, the Hugging Face cache's
 * snapshots, LM Studio's folders and configured folders, with their names, hashes, defaults and problems.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { readGgufFileInfo } from "node-llama-cpp";
import { loadConfig } from "../../src/config/load.js";
import { chooseChatTemplate } from "../../src/engines/llama/chatTemplate.js";
import { llamaRuntime } from "../../src/engines/llama/runtime.js";
import type { ModelCatalog } from "../../src/models/catalog.js";
import { openCatalog } from "../../src/models/openCatalog.js";
import { scratchDir } from "../helpers/paths.js";
import { freshHome, huggingFaceCache, lmStudio, ollamaStore, writeModel } from "../helpers/modelStores.js";

const CHATML_GO = "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n<|im_start|>assistant\n";
const home = freshHome();
let env: NodeJS.ProcessEnv;
let catalog: ModelCatalog;

async function open(config: object = {}, llama = llamaRuntime) {
  const loaded = await loadConfig({ flags: { dataDir: join(home, "data") }, env: {} });
  const merged = { ...loaded, models: { ...loaded.models, dirs: [join(home, "dir")], ...config } };
  return openCatalog(merged, llama, env);
}

before(async () => {
  const models = scratchDir();
  const gguf = await writeModel(join(models, "a.gguf"));
  const other = await writeModel(join(models, "b.gguf"), { seed: 9 });
  const plain = await writeModel(join(models, "plain.gguf"), { template: false });
  await ollamaStore(join(home, "ollama"), [
    { name: "psalm", tag: "latest", gguf, template: CHATML_GO, system: "You sing psalms.", params: { stop: ["Selah"], temperature: 0.3, num_ctx: 1024 } },
    { name: "broken", tag: "7b", gguf: other, dropBlob: true },
  ]);
  await huggingFaceCache(join(home, "hf"), "psalms/Tiny-GGUF", [{ name: "tiny-Q4_K_M.gguf", gguf: other }, { name: "gone-Q8_0.gguf", gguf: other, dangling: true }]);
  await lmStudio(home, "lmstudio-community", "Tiny-GGUF", [{ name: "tiny-Q4_K_M.gguf", gguf }]);
  await mkdir(join(home, "dir"), { recursive: true });
  await (await import("node:fs/promises")).copyFile(plain, join(home, "dir", "Plain-Model.Q4_0.gguf"));
  env = { HOME: home, OLLAMA_MODELS: join(home, "ollama"), HF_HUB_CACHE: join(home, "hf") };
  catalog = await open();
});

const find = (id: string) => catalog.entries().find((e) => e.id === id);

test("each store's models are named as that tool names them, with the hash the store names them by", () => {
  const ids = catalog.entries().map((e) => e.id);
  for (const id of ["psalm:latest", "hf.co/psalms/tiny-gguf:q4_k_m", "lmstudio-community/tiny-gguf:q4_k_m", "plain-model:q4_0"]) assert.ok(ids.includes(id), `${id} in ${ids.join(", ")}`);
  const psalm = find("psalm:latest")!;
  assert.equal(psalm.source.kind, "ollama");
  assert.match(psalm.path, /blobs\/sha256-[0-9a-f]{64}$/);
  assert.equal(psalm.sha256, psalm.path.slice(-64));
  const hf = find("hf.co/psalms/tiny-gguf:q4_k_m")!;
  assert.equal(hf.sha256, hf.path.slice(-64), "the Hugging Face blob's name is its sha256");
  assert.match(hf.source.detail, /^psalms\/Tiny-GGUF@a1b2c3d4e5f6\/tiny-Q4_K_M\.gguf$/);
  assert.equal(find("lmstudio-community/tiny-gguf:q4_k_m")!.sha256, undefined, "LM Studio names no hash: it is hashed on first use");
  for (const e of catalog.entries().filter((x) => x.source.kind !== "bundled")) assert.equal(e.source.owned, false, "never copied");
});

test("an Ollama model's params and system layers are its defaults; its template layer is recorded", () => {
  const psalm = find("psalm:latest")!;
  assert.equal(psalm.engine, "llama");
  if (psalm.engine !== "llama") return;
  assert.deepEqual(psalm.defaults, { system: "You sing psalms.", stop: ["Selah"], temperature: 0.3, contextSize: 1024 });
  assert.equal(psalm.contextSize, 1024);
  assert.equal(psalm.template?.kind, "ollama");
  assert.equal(psalm.gguf?.architecture, "llama");
  assert.ok(psalm.gguf!.parameters > 0 && psalm.gguf!.layers === 2);
});

test("a missing blob and a dangling symlink are reported, not served", () => {
  const problems = catalog.problems.map((p) => `${p.source}: ${p.reason}`);
  assert.ok(problems.some((p) => /^ollama: the model blob sha256:[0-9a-f]{64} is missing/.test(p)), problems.join("\n"));
  assert.ok(problems.some((p) => /^huggingface: dangling symlink to .*blobs\/f{64}$/.test(p)), problems.join("\n"));
  assert.ok(!catalog.entries().some((e) => e.id.startsWith("broken") || e.id.includes("gone")));
});

test("the chat template is said out loud: the file's own, or a fallback named as one", async () => {
  const own = chooseChatTemplate({ fileInfo: await readGgufFileInfo(find("psalm:latest")!.path), override: undefined });
  assert.equal(own.fallback, false);
  assert.match(own.description, /^the file's own chat template/);
  const plain = find("plain-model:q4_0")!;
  const choice = chooseChatTemplate({ fileInfo: await readGgufFileInfo(plain.path), filename: plain.path });
  assert.equal(choice.fallback, true);
  assert.match(choice.description, /^the file has no chat template; falling back to /);
  const ollamaLayer = chooseChatTemplate({ fileInfo: await readGgufFileInfo(plain.path), override: { kind: "ollama", text: CHATML_GO, from: "test" } });
  assert.deepEqual([ollamaLayer.fallback, ollamaLayer.description], [false, "the file has no chat template; Ollama's template layer, read as ChatML"]);
});

test("discovery can be turned off, and headers read once are not read again", async () => {
  const without = await open({ discover: { ollama: false, huggingface: true, lmstudio: false } });
  assert.ok(!without.entries().some((e) => e.source.kind === "ollama" || e.source.kind === "lmstudio"));
  assert.ok(without.entries().some((e) => e.source.kind === "huggingface"));
  // every header is cached now: listing again needs no llama.cpp runtime at all
  const cached = await open({}, () => Promise.reject(new Error("a header was read again")));
  assert.deepEqual(cached.entries().map((e) => e.id), catalog.entries().map((e) => e.id));
});
