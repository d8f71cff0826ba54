/**
 * Managing and serving models through Ollama's API with the official `ollama` client, and serving models found in
 * other tools' stores through the official `openai` client: pull from a loopback hub, create from an uploaded blob,
 * copy, delete, show with the GGUF's keys; discovered models listed, loaded on first use, with their defaults.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startFakeHub, type FakeHub } from "../fakeHub/fakeHub.js";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { freshHome, huggingFaceCache, lmStudio, ollamaStore, writeModel } from "../helpers/modelStores.js";
import { scratchDir } from "../helpers/paths.js";

let daemon: RunningDaemon;
let hub: FakeHub;
let ollama: Ollama;
let openai: OpenAI;
let gguf: Buffer;

before(async () => {
  const dir = scratchDir();
  const path = await writeModel(join(dir, "m.gguf"));
  gguf = await readFile(path);
  const home = freshHome();
  await ollamaStore(join(home, "ollama"), [{ name: "psalm", tag: "latest", gguf: path, system: "You sing the psalms of David, and you answer in verse.", params: { stop: ["Selah"], temperature: 0 } }]);
  await huggingFaceCache(join(home, "hf"), "psalms/Tiny-GGUF", [{ name: "tiny-Q4_K_M.gguf", gguf: path }]);
  await lmStudio(home, "lmstudio-community", "Tiny-GGUF", [{ name: "tiny-Q4_K_M.gguf", gguf: path }]);
  hub = await startFakeHub({ "psalms/pulled-GGUF": { files: { "pulled-Q4_K_M.gguf": gguf } } });
  const config = join(dir, "edged.json");
  await writeFile(config, JSON.stringify({ models: { hubUrl: hub.url } }));
  daemon = await startDaemon({ args: ["--config", config], env: { HOME: home, OLLAMA_MODELS: join(home, "ollama"), HF_HUB_CACHE: join(home, "hf") } });
  ollama = new Ollama({ host: daemon.url });
  openai = new OpenAI({ baseURL: daemon.baseURL, apiKey: "x", maxRetries: 0 });
});
after(async () => {
  await daemon?.stop();
  await hub?.stop();
});

test("models found in Ollama's, Hugging Face's and LM Studio's stores are listed and served, loaded on first use", async () => {
  const names = (await ollama.list()).models.map((m) => m.name);
  for (const id of ["psalm:latest", "hf.co/psalms/tiny-gguf:q4_k_m", "lmstudio-community/tiny-gguf:q4_k_m"]) assert.ok(names.includes(id), `${id} in ${names.join(", ")}`);
  assert.ok((await openai.models.list()).data.some((m) => m.id === "hf.co/psalms/tiny-gguf:q4_k_m"));
  const r = await openai.chat.completions.create({ model: "hf.co/psalms/tiny-gguf:q4_k_m", messages: [{ role: "user", content: "Hello" }], max_tokens: 4 });
  assert.equal(r.model, "hf.co/psalms/tiny-gguf:q4_k_m");
  assert.equal(r.usage?.completion_tokens, 4);
  assert.ok((await ollama.ps()).models.some((m) => m.name === "hf.co/psalms/tiny-gguf:q4_k_m"), "loaded on demand");
});

test("an Ollama model's system layer is its default system prompt (a request's own system message wins)", async () => {
  const ask = (messages: OpenAI.ChatCompletionMessageParam[], model: string) => openai.chat.completions.create({ model, messages, max_tokens: 1 });
  const withDefault = await ask([{ role: "user", content: "Sing" }], "psalm");
  const bare = await ask([{ role: "user", content: "Sing" }], "lmstudio-community/tiny-gguf:q4_k_m");
  assert.ok(withDefault.usage!.prompt_tokens > bare.usage!.prompt_tokens + 8, `${withDefault.usage!.prompt_tokens} vs ${bare.usage!.prompt_tokens}: the system layer is in the prompt`);
  const own = await ask([{ role: "system", content: "Hush." }, { role: "user", content: "Sing" }], "psalm");
  assert.ok(own.usage!.prompt_tokens < withDefault.usage!.prompt_tokens);
  const show = await ollama.show({ model: "psalm" });
  assert.equal(show.system, "You sing the psalms of David, and you answer in verse.");
  assert.match(show.parameters, /stop "Selah"/);
  const info = show.model_info as unknown as Record<string, unknown>;
  assert.equal(info["general.architecture"], "llama");
  assert.equal(info["llama.block_count"], 2);
  assert.equal(info["tokenizer.ggml.tokens"], null, "long arrays are left out, as Ollama does");
  assert.match((show as unknown as { chat_template: { description: string } }).chat_template.description, /^the file's own chat template/);
});

test("pull from the hub with Ollama's progress, then serve the pulled model", async () => {
  const statuses: string[] = [];
  let completed = 0;
  for await (const part of await ollama.pull({ model: "hf.co/psalms/pulled-GGUF:Q4_K_M", stream: true })) {
    statuses.push(part.status);
    if (part.completed) completed = part.completed;
  }
  assert.equal(statuses[0], "pulling manifest");
  assert.ok(statuses.some((s) => /^pulling [0-9a-f]{12}$/.test(s)));
  assert.deepEqual(statuses.slice(-3), ["verifying sha256 digest", "writing manifest", "success"]);
  assert.equal(completed, gguf.length);
  const r = await ollama.generate({ model: "hf.co/psalms/pulled-gguf:q4_k_m", prompt: "In the beginning", options: { num_predict: 2 } });
  assert.equal(r.eval_count, 2);
  await assert.rejects(ollama.pull({ model: "llama3.2" }), (e: Error & { status_code?: number }) => e.status_code === 400 && /edged pulls GGUF repositories from/.test(e.message));
  await assert.rejects(ollama.pull({ model: "hf.co/psalms/none-GGUF" }), (e: Error & { status_code?: number }) => e.status_code === 404);
});

test("create from an uploaded blob, with template, system and parameters; copy; delete", async () => {
  const digest = `sha256:${createHash("sha256").update(gguf).digest("hex")}`;
  const blob = `${daemon.url}/api/blobs/${digest}`;
  assert.equal((await fetch(blob, { method: "HEAD" })).status, 404);
  const wrong = await fetch(`${daemon.url}/api/blobs/sha256:${"0".repeat(64)}`, { method: "POST", body: gguf });
  assert.equal(wrong.status, 400);
  assert.match(((await wrong.json()) as { error: string }).error, /digest mismatch/);
  assert.equal((await fetch(blob, { method: "POST", body: gguf })).status, 201);
  assert.equal((await fetch(blob, { method: "HEAD" })).status, 200);

  const statuses: string[] = [];
  const create = { model: "mine:verse", files: { "mine.gguf": digest }, system: "Answer in verse.", parameters: { temperature: 0.2, stop: ["Amen"] }, template: "{{ .Prompt }}", stream: true };
  for await (const part of await ollama.create(create as unknown as Parameters<Ollama["create"]>[0] & { stream: true })) statuses.push(part.status);
  assert.equal(statuses.at(-1), "success");
  const shown = await ollama.show({ model: "mine:verse" });
  assert.equal(shown.system, "Answer in verse.");
  assert.match(shown.parameters, /temperature 0\.2/);
  assert.equal(shown.template, "{{ .Prompt }}");
  assert.equal((await ollama.chat({ model: "mine:verse", messages: [{ role: "user", content: "Hi" }], options: { num_predict: 2 } })).eval_count, 2);

  await ollama.copy({ source: "mine:verse", destination: "mine:copy" });
  assert.ok((await ollama.list()).models.some((m) => m.name === "mine:copy"));
  await ollama.delete({ model: "mine:verse" });
  const names = (await ollama.list()).models.map((m) => m.name);
  assert.ok(!names.includes("mine:verse") && names.includes("mine:copy"), "the copy keeps the shared file");
  assert.equal((await fetch(blob, { method: "HEAD" })).status, 200);
  await ollama.delete({ model: "mine:copy" });
  assert.equal((await fetch(blob, { method: "HEAD" })).status, 404, "the last name gone, the stored file is deleted");

  await assert.rejects(ollama.delete({ model: "psalm" }), /ollama's store .*edged removes only models it registered/);
  await assert.rejects(ollama.delete({ model: "nothing:here" }), (e: Error & { status_code?: number }) => e.status_code === 404);
  await assert.rejects(ollama.copy({ source: "nothing:here", destination: "x:y" }), (e: Error & { status_code?: number }) => e.status_code === 404);
  const missingBlob = await fetch(`${daemon.url}/api/create`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "ghost", files: { "g.gguf": `sha256:${"1".repeat(64)}` }, stream: false }) });
  assert.equal(missingBlob.status, 400);
  assert.match(((await missingBlob.json()) as { error: string }).error, /was not uploaded/);
});
