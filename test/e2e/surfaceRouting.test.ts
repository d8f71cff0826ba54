/**
 * Every surface through the router: the real daemon on the bundled model escalating to loopback fake clouds (one
 * speaking OpenAI's wire protocol, one Anthropic's), each answer written back in the surface's own format, a stream
 * cut mid-answer ending in the surface's own error event, and cloud log-probabilities passed through or reported
 * missing.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { everyRequestToTheCloud, fakeProviders } from "../helpers/fakeProviders.js";
import { startFakeCloud, type FakeCloud } from "../fakeCloud/fakeCloud.js";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";

const MODEL = "edged-kjv:q4_k_m";
let openaiCloud: FakeCloud;
let anthropicCloud: FakeCloud;
let daemon: RunningDaemon;
let openai: OpenAI;
let anthropic: Anthropic;
let ollama: Ollama;

before(async () => {
  openaiCloud = await startFakeCloud({ apiKey: "sk-test-openai" });
  anthropicCloud = await startFakeCloud({ apiKey: "sk-ant-test" });
  const config = join(scratchDir(), "edged.json");
  const fast = { retry: { maxRetries: 0 }, breaker: { failureThreshold: 50 } };
  await writeFile(
    config,
    JSON.stringify({
      cloud: {
        providers: fakeProviders(openaiCloud, anthropicCloud, { openai: { apiKey: "sk-test-openai" }, anthropic: { apiKey: "sk-ant-test" } }, fast),
      },
      router: everyRequestToTheCloud([
        { model: "via-anthropic", local: MODEL, cloud: ["anthropic-b"], fallbackToLocal: false },
        { model: "*", cloud: ["openai-a", "anthropic-b"] },
      ]),
    }),
  );
  daemon = await startDaemon({ args: ["--config", config] });
  openai = new OpenAI({ baseURL: daemon.baseURL, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: daemon.url, apiKey: "unused", maxRetries: 0 });
  ollama = new Ollama({ host: daemon.url });
});
beforeEach(() => {
  openaiCloud.setFaults([]);
  anthropicCloud.setFaults([]);
});
after(async () => {
  await daemon?.stop();
  await openaiCloud?.stop();
  await anthropicCloud?.stop();
});

const lastSent = (cloud: FakeCloud) => cloud.requests.at(-1)!.body as { messages: { role: string; content: string }[]; stream?: boolean; logprobs?: boolean };

test("Responses: escalated answers come back as response objects, are stored, and continue with the whole conversation", async () => {
  const r = await openai.responses.create({ model: MODEL, input: "Tell me the whole story of the exodus", max_output_tokens: 300 }).withResponse();
  assert.equal(r.response.headers.get("x-edged-route"), "cloud");
  assert.equal(r.data.output_text, "You said 8 words: Tell me the whole story of the exodus");
  assert.equal(r.data.model, "gpt-fake");
  const next = await openai.responses.create({ model: MODEL, input: "And then what", previous_response_id: r.data.id, instructions: "Be brief", max_output_tokens: 300 });
  assert.equal(next.output_text, "You said 3 words: And then what");
  assert.deepEqual(lastSent(openaiCloud).messages, [
    { role: "system", content: "Be brief" },
    { role: "user", content: "Tell me the whole story of the exodus" },
    { role: "assistant", content: "You said 8 words: Tell me the whole story of the exodus" },
    { role: "user", content: "And then what" },
  ]);
  assert.equal((await openai.responses.retrieve(next.id)).output_text, next.output_text);

  const stream = openai.responses.stream({ model: MODEL, input: "Sing unto the Lord a new song", max_output_tokens: 300 });
  let text = "";
  for await (const event of stream) if (event.type === "response.output_text.delta") text += event.delta;
  assert.equal(text, "You said 7 words: Sing unto the Lord a new song");
  assert.equal((await stream.finalResponse()).usage!.output_tokens, 11);
});

test("Anthropic Messages escalate to an OpenAI-compatible cloud and the answer comes back in Anthropic's format", async () => {
  const m = await anthropic.messages.create({ model: MODEL, max_tokens: 300, system: "Be kind", messages: [{ role: "user", content: "Who built the ark" }] }).withResponse();
  assert.equal(m.response.headers.get("x-edged-route"), "cloud");
  assert.equal(m.response.headers.get("x-edged-cloud-target"), "openai-a");
  assert.deepEqual(m.data.content, [{ type: "text", text: "You said 4 words: Who built the ark" }]);
  assert.equal(m.data.stop_reason, "end_turn");
  assert.equal(m.data.model, "gpt-fake");
  assert.deepEqual(lastSent(openaiCloud).messages[0], { role: "system", content: "Be kind" });

  const stream = anthropic.messages.stream({ model: MODEL, max_tokens: 300, messages: [{ role: "user", content: "Sing unto the Lord a new song" }] });
  const final = await stream.finalMessage();
  assert.equal(final.content[0]!.type, "text");
  assert.equal((final.content[0] as { text: string }).text, "You said 7 words: Sing unto the Lord a new song");
  assert.equal(final.usage.output_tokens, 11);

  const viaAnthropic = await anthropic.messages.create({ model: "via-anthropic", max_tokens: 300, messages: [{ role: "user", content: "Who built the ark" }] });
  assert.equal(viaAnthropic.model, "claude-fake");
  assert.equal((viaAnthropic.content[0] as { text: string }).text, "You said 4 words: Who built the ark");
});

test("Ollama chat and generate and text completions are routed too, and say so in the same headers", async () => {
  const chat = await fetch(`${daemon.url}/api/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: MODEL, stream: false, messages: [{ role: "user", content: "Who built the ark" }], options: { num_predict: 300 } }) });
  assert.equal(chat.headers.get("x-edged-route"), "cloud");
  const chatBody = (await chat.json()) as { message: { content: string }; done: boolean; eval_count: number };
  assert.equal(chatBody.message.content, "You said 4 words: Who built the ark");
  assert.equal(chatBody.done, true);
  assert.equal(chatBody.eval_count, 8);

  let streamed = "";
  for await (const part of await ollama.generate({ model: MODEL, prompt: "Remember the sabbath day", system: "Be kind", stream: true, options: { num_predict: 300 } })) streamed += part.response;
  assert.equal(streamed, "You said 4 words: Remember the sabbath day");
  assert.deepEqual(lastSent(openaiCloud).messages, [
    { role: "system", content: "Be kind" },
    { role: "user", content: "Remember the sabbath day" },
  ]);

  const text = await openai.completions.create({ model: MODEL, prompt: "Honour thy father and thy mother", max_tokens: 300 }).withResponse();
  assert.equal(text.response.headers.get("x-edged-route"), "cloud");
  assert.equal(text.data.choices[0]!.text, "You said 6 words: Honour thy father and thy mother");
  assert.equal(text.data.object, "text_completion");

  const kept = await fetch(`${daemon.url}/api/chat`, { method: "POST", headers: { "content-type": "application/json", "x-edged-privacy": "local_only" }, body: JSON.stringify({ model: MODEL, stream: false, messages: [{ role: "user", content: "Keep this" }], options: { num_predict: 4 } }) });
  assert.equal(kept.headers.get("x-edged-route"), "local");
  assert.equal(((await kept.json()) as { model: string }).model, MODEL);
});

test("a stream cut mid-answer ends in each surface's own error event", async () => {
  const cut = () => openaiCloud.setFaults([{ resetAfterChunks: 3 }]);
  const long = "Sing unto the Lord a new song with all the earth";

  cut();
  const responses = openai.responses.stream({ model: MODEL, input: long, max_output_tokens: 300 });
  const events: { type: string; code?: string | null }[] = [];
  for await (const event of responses) events.push(event as { type: string; code?: string | null });
  assert.deepEqual(events.at(-1), { ...events.at(-1), type: "error", code: "cloud_stream_cut" });
  assert.ok(!events.some((e) => e.type === "response.completed"));
  await assert.rejects(responses.finalResponse());

  cut();
  const messages = anthropic.messages.stream({ model: MODEL, max_tokens: 300, messages: [{ role: "user", content: long }] });
  await assert.rejects(messages.finalMessage(), (e: Error) => /broke off/.test(e.message));

  cut();
  await assert.rejects(async () => {
    for await (const _ of await ollama.chat({ model: MODEL, stream: true, messages: [{ role: "user", content: long }], options: { num_predict: 300 } }));
  }, /broke off/);

  cut();
  await assert.rejects(async () => {
    for await (const _ of await openai.completions.create({ model: MODEL, prompt: long, max_tokens: 300, stream: true }));
  }, /broke off/);
  assert.equal(openaiCloud.requests.filter((r) => r.outcome === "fault").length >= 4, true);
});

test("cloud log-probabilities pass through from an OpenAI-compatible cloud; an Anthropic target says it has none", async () => {
  const { data: r, response } = await openai.chat.completions.create({ model: MODEL, max_tokens: 300, messages: [{ role: "user", content: "Who built the ark" }], logprobs: true, top_logprobs: 2 }).withResponse();
  assert.equal(response.headers.get("x-edged-route"), "cloud", response.headers.get("x-edged-route-reason") ?? "");
  assert.equal(lastSent(openaiCloud).logprobs, true);
  const content = r.choices[0]!.logprobs!.content!;
  assert.equal(content.map((c) => c.token).join(""), r.choices[0]!.message.content);
  assert.equal(content[1]!.logprob, -0.1);
  assert.equal(content[1]!.top_logprobs.length, 2);

  const stream = await openai.chat.completions.create({ model: MODEL, max_tokens: 300, messages: [{ role: "user", content: "Who built the ark" }], logprobs: true, stream: true });
  const tokens: string[] = [];
  for await (const chunk of stream) for (const c of chunk.choices[0]?.logprobs?.content ?? []) tokens.push(c.token);
  assert.equal(tokens.join(""), "You said 4 words: Who built the ark");

  const none = await openai.chat.completions.create({ model: "via-anthropic", max_tokens: 300, messages: [{ role: "user", content: "Who built the ark" }], logprobs: true }).withResponse();
  assert.equal(none.data.choices[0]!.logprobs, null);
  assert.match(none.response.headers.get("x-edged-logprobs")!, /^unavailable: anthropic-b returns none/);
});
