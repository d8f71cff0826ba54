/** Requests that share a prompt prefix reuse its evaluated state; /metrics reports the hit rate. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { startDaemon, writeManifest, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

let daemon: RunningDaemon;
let client: OpenAI;
const MODEL = "tiny:f16";
const SYSTEM = "You are the keeper of the scrolls. ".repeat(30);

before(async () => {
  const dir = scratchDir();
  const path = await writeTinyModel(dir);
  const manifest = await writeManifest(dir, { id: MODEL, engine: "llama", path, quant: "F16", contextSize: 512 });
  daemon = await startDaemon({ args: ["--manifest", manifest, "--slots", "3"] });
  client = new OpenAI({ baseURL: daemon.baseURL, apiKey: "x", maxRetries: 0 });
});
after(async () => {
  await daemon.stop();
});

async function counter(name: string): Promise<number> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  return Number(new RegExp(`^${name}\\{model="${MODEL}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
}

test("a second request with the same system prompt evaluates only what differs", async () => {
  const ask = (question: string) =>
    client.chat.completions.create({ model: MODEL, messages: [{ role: "system", content: SYSTEM }, { role: "user", content: question }], max_tokens: 4, temperature: 0 });
  const first = await ask("Who wrote the first scroll?");
  assert.equal(await counter("edged_prompt_tokens_reused_total"), 0);
  const second = await ask("Where is the last scroll kept?");
  const reused = await counter("edged_prompt_tokens_reused_total");
  assert.ok(reused > 100, `reused ${reused} tokens`);
  assert.ok(reused < second.usage!.prompt_tokens, "the differing question is evaluated");
  assert.ok(reused <= first.usage!.prompt_tokens);
  assert.equal(await counter("edged_prefix_cache_lookups_total"), 2);
  assert.equal(await counter("edged_prefix_cache_hits_total"), 1);
});

test("the next turn of a conversation reuses the previous prompt and answer", async () => {
  const before = await counter("edged_prompt_tokens_reused_total");
  const turn1 = [{ role: "user" as const, content: "Tell me of the flood and the ark and the animals two by two." }];
  const a = await client.chat.completions.create({ model: MODEL, messages: turn1, max_tokens: 8, temperature: 0 });
  const turn2 = [...turn1, { role: "assistant" as const, content: a.choices[0]!.message.content! }, { role: "user" as const, content: "And then?" }];
  await client.chat.completions.create({ model: MODEL, messages: turn2, max_tokens: 4, temperature: 0 });
  assert.ok((await counter("edged_prompt_tokens_reused_total")) - before >= a.usage!.prompt_tokens - 1);
});

test("a request sharing only a few first tokens with a cached prompt takes another sequence, so the cached one survives", async () => {
  const ask = (system: string, question: string) =>
    client.chat.completions.create({ model: MODEL, messages: [{ role: "system", content: system }, { role: "user", content: question }], max_tokens: 4, temperature: 0 });
  await ask(SYSTEM, "Who keeps the scrolls?");
  // the template's opening and "You are the" in common: fewer tokens than a shared prefix must have to count
  await ask("You are the ferryman of the river.", "Who crosses tonight?");
  const before = await counter("edged_prompt_tokens_reused_total");
  await ask(SYSTEM, "Where are the scrolls kept?");
  const reused = (await counter("edged_prompt_tokens_reused_total")) - before;
  assert.ok(reused > 100, `the long system prompt was still cached: reused ${reused} tokens`);
});
