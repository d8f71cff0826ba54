/** Several models: loaded on demand with a single flight, kept alive, unloaded least-recently-used first. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startDaemon, writeManifest, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

let daemon: RunningDaemon;
let openai: OpenAI;
let ollama: Ollama;
let manifestPath: string;

before(async () => {
  const dir = scratchDir();
  const drafts = await Promise.all(
    ["base", "alpha", "beta"].map(async (name) => ({ id: `${name}:f16`, engine: "llama" as const, path: await writeTinyModel(dir, `${name}.gguf`), quant: "F16", contextSize: 512 })),
  );
  const manifest = await writeManifest(dir, drafts[0]!, drafts[1]!, drafts[2]!);
  manifestPath = manifest;
  daemon = await startDaemon({ args: ["--manifest", manifest] });
  openai = new OpenAI({ baseURL: daemon.baseURL, apiKey: "x", maxRetries: 0 });
  ollama = new Ollama({ host: daemon.url });
});
after(async () => {
  await daemon.stop();
});

const loaded = async () => ((await (await fetch(`${daemon.baseURL}/loaded`)).json()) as { models: { id: string; device: string; ram_bytes: number }[] }).models;
const loads = (id: string) => daemon.output().split("\n").filter((l) => l.includes(`loading ${id}:`)).length;

test("every manifest model is listed; only the pinned default is loaded at first, with its device and memory", async () => {
  assert.deepEqual((await openai.models.list()).data.map((m) => m.id).sort(), ["alpha:f16", "base:f16", "beta:f16"]);
  const now = await loaded();
  assert.deepEqual(now.map((m) => m.id), ["base:f16"]);
  assert.equal(now[0]!.device, "cpu");
  assert.ok(now[0]!.ram_bytes > 0);
});

test("ten concurrent requests for a cold model trigger one load", async () => {
  const replies = await Promise.all(Array.from({ length: 10 }, () => openai.completions.create({ model: "alpha:f16", prompt: "In the beginning", max_tokens: 2 })));
  assert.ok(replies.every((r) => r.usage!.completion_tokens === 2));
  assert.equal(loads("alpha:f16"), 1);
  assert.deepEqual((await loaded()).map((m) => m.id).sort(), ["alpha:f16", "base:f16"]);
});

test("keep_alive: a model asked to stay 1 s is unloaded after it; keep_alive 0 unloads at once", async () => {
  await ollama.generate({ model: "beta:f16", prompt: "Amen", options: { num_predict: 2 }, keep_alive: "1s" });
  assert.ok((await ollama.ps()).models.some((m) => m.name === "beta:f16"));
  for (let i = 0; i < 40 && (await loaded()).some((m) => m.id === "beta:f16"); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!(await loaded()).some((m) => m.id === "beta:f16"), "beta unloaded after its keep-alive");
  await ollama.generate({ model: "alpha:f16", prompt: "", keep_alive: 0 });
  for (let i = 0; i < 20 && (await loaded()).some((m) => m.id === "alpha:f16"); i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual((await loaded()).map((m) => m.id), ["base:f16"], "the pinned default stays");
});

test("at the loaded-model limit the least recently used idle model is unloaded for the new one", async () => {
  const { writeFile } = await import("node:fs/promises");
  const config = `${scratchDir()}/config.json`;
  await writeFile(config, JSON.stringify({ models: { maxLoaded: 2 } }));
  const small = await startDaemon({ args: ["--manifest", manifestPath, "--config", config] });
  try {
    const client = new OpenAI({ baseURL: small.baseURL, apiKey: "x", maxRetries: 0 });
    const ids = async () => ((await (await fetch(`${small.baseURL}/loaded`)).json()) as { models: { id: string }[] }).models.map((m) => m.id).sort();
    await client.completions.create({ model: "alpha:f16", prompt: "x", max_tokens: 1 });
    assert.deepEqual(await ids(), ["alpha:f16", "base:f16"]);
    await client.completions.create({ model: "beta:f16", prompt: "x", max_tokens: 1 });
    assert.deepEqual(await ids(), ["base:f16", "beta:f16"], "alpha (idle, least recently used) made room; the pinned default stayed");
    assert.match(small.output(), /unloading alpha:f16 \(to make room for beta:f16\)/);
  } finally {
    await small.stop();
  }
});
