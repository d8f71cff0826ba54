/** The daemon on the bundled 4-bit model, driven by the official openai client as a desktop app would. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";

let daemon: RunningDaemon;
let client: OpenAI;
const CHAT = "edged-kjv:q4_k_m";
const EMBED = "edged-embed:q4";

before(async () => {
  daemon = await startDaemon();
  client = new OpenAI({ baseURL: daemon.baseURL, apiKey: "unused-on-loopback", maxRetries: 0 });
});
after(async () => {
  await daemon.stop();
});

test("lists every bundled model; the default chat and embedding models are the ones loaded", async () => {
  const ids = (await client.models.list()).data.map((m) => m.id);
  assert.deepEqual(ids.sort(), ["edged-embed:fp32", EMBED, "edged-kjv:f16", "edged-kjv:q4_0", CHAT, "edged-kjv:q8_0"].sort());
  assert.equal((await client.models.retrieve(CHAT)).id, CHAT);
  const loaded = (await (await fetch(`${daemon.baseURL}/loaded`)).json()) as { models: { id: string }[] };
  assert.deepEqual(loaded.models.map((m) => m.id).sort(), [EMBED, CHAT].sort());
});

test("chat completion: English words, usage counts, finish reason", async () => {
  const r = await client.chat.completions.create({
    model: CHAT,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "In the beginning God created the heaven and the earth." },
    ],
    max_tokens: 40,
    temperature: 0.7,
    seed: 11,
  });
  const choice = r.choices[0]!;
  assert.equal(r.object, "chat.completion");
  assert.equal(choice.message.role, "assistant");
  assert.ok(choice.message.content!.length > 0);
  assert.ok(["stop", "length"].includes(choice.finish_reason));
  assert.ok(r.usage!.prompt_tokens > 10);
  assert.ok(r.usage!.completion_tokens > 0 && r.usage!.completion_tokens <= 40);
  assert.equal(r.usage!.total_tokens, r.usage!.prompt_tokens + r.usage!.completion_tokens);
  const words = choice.message.content!.toLowerCase().match(/[a-z]+/g) ?? [];
  const common = ["the", "and", "of", "to", "that", "in", "he", "shall", "unto", "for", "i", "his", "a", "lord", "they", "be", "is", "him", "not", "them", "it", "with", "all", "thou", "thy", "was", "god", "which", "my", "me", "said", "but", "ye", "their", "have", "will", "thee", "from", "as", "are", "when", "this", "out", "were", "upon", "man", "by", "you", "israel", "king"];
  assert.ok(words.some((w) => common.includes(w)), `no common English word in: ${choice.message.content}`);
});

test("streamed chat: role first, content deltas, finish reason, usage chunk, [DONE]", async () => {
  const stream = await client.chat.completions.create({
    model: CHAT,
    messages: [{ role: "user", content: "And God said" }],
    max_tokens: 24,
    stream: true,
    stream_options: { include_usage: true },
    seed: 3,
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks[0]!.choices[0]!.delta.role, "assistant");
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
  assert.ok(text.length > 0);
  const finals = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(finals.length, 1);
  const usage = chunks.at(-1)!.usage!;
  assert.deepEqual(chunks.at(-1)!.choices, []);
  assert.ok(usage.completion_tokens > 0 && usage.completion_tokens <= 24);
});

test("the same seed gives the same text; max_tokens gives finish_reason length", async () => {
  const ask = (seed: number) =>
    client.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "Tell me of Moses." }], max_completion_tokens: 12, temperature: 1, seed });
  const [a, b] = [await ask(42), await ask(42)];
  assert.equal(a.choices[0]!.message.content, b.choices[0]!.message.content);
  const differs = await Promise.all([1, 2, 3].map(async (s) => (await ask(s)).choices[0]!.message.content !== a.choices[0]!.message.content));
  assert.ok(differs.some(Boolean), "other seeds should give other text");
  const short = await client.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "Speak." }], max_tokens: 1 });
  assert.equal(short.choices[0]!.finish_reason, "length");
  assert.equal(short.usage!.completion_tokens, 1);
});

test("stop sequences end the text before the stop string", async () => {
  const base = await client.completions.create({ model: CHAT, prompt: "And it came to pass, that", max_tokens: 30, temperature: 0 });
  const text = base.choices[0]!.text;
  const word = text.trim().split(/\s+/)[1]!;
  const stopped = await client.completions.create({ model: CHAT, prompt: "And it came to pass, that", max_tokens: 30, temperature: 0, stop: [word] });
  assert.equal(stopped.choices[0]!.finish_reason, "stop");
  assert.equal(stopped.choices[0]!.text, text.slice(0, text.indexOf(word)));
});

test("text completions, plain and streamed", async () => {
  const r = await client.completions.create({ model: CHAT, prompt: "In the beginning", max_tokens: 10, temperature: 0 });
  assert.equal(r.object, "text_completion");
  assert.ok(r.choices[0]!.text.length > 0);
  assert.ok(r.usage!.prompt_tokens >= 3);
  const stream = await client.completions.create({ model: CHAT, prompt: "In the beginning", max_tokens: 10, temperature: 0, stream: true });
  let text = "";
  for await (const c of stream) text += c.choices[0]?.text ?? "";
  assert.equal(text, r.choices[0]!.text);
});

test("a scored prompt (echo, max_tokens 0): every token's log-probability, the same each time, likelier for the text the model knows", async () => {
  const score = (prompt: string) => client.completions.create({ model: CHAT, prompt, max_tokens: 0, echo: true, logprobs: 2 });
  const r = await score("In the beginning God created the heaven and the earth.");
  const choice = r.choices[0]!;
  assert.equal(choice.text, "In the beginning God created the heaven and the earth.");
  assert.equal(r.usage!.completion_tokens, 0);
  const lp = choice.logprobs!;
  assert.equal(lp.tokens!.length, r.usage!.prompt_tokens - 1, "every token but BOS");
  assert.equal(lp.tokens!.join("").trim(), choice.text);
  for (const [i, v] of lp.token_logprobs!.entries()) {
    assert.ok(v! < 0, `token ${i}: ${v}`);
    assert.equal(Object.keys(lp.top_logprobs![i]!).length, 2);
    assert.ok(Math.max(...Object.values(lp.top_logprobs![i]!)) >= v! - 1e-9, "the likeliest alternative is at least as likely");
  }
  assert.deepEqual((await score("In the beginning God created the heaven and the earth.")).choices[0]!.logprobs!.token_logprobs, lp.token_logprobs);
  const total = (values: (number | null)[]) => values.reduce((a: number, b) => a + (b ?? 0), 0);
  const shuffled = await score("earth the and heaven the created God beginning the In.");
  assert.ok(total(lp.token_logprobs!) > total(shuffled.choices[0]!.logprobs!.token_logprobs!), "the verse is likelier than its words shuffled");
});

test("echo and max_tokens 0 only go together, and a scored prompt is not streamed", async () => {
  const refused = async (body: Record<string, unknown>, param: string, message: RegExp) => {
    const res = await fetch(`${daemon.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: CHAT, prompt: "In the beginning", ...body }) });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { param: string; message: string; type: string } };
    assert.equal(error.type, "invalid_request_error");
    assert.equal(error.param, param);
    assert.match(error.message, message);
  };
  await refused({ echo: true, max_tokens: 5 }, "echo", /echo is supported with max_tokens 0/);
  await refused({ echo: true }, "echo", /echo is supported with max_tokens 0/);
  await refused({ max_tokens: 0 }, "max_tokens", /0 only with echo/);
  await refused({ echo: true, max_tokens: 0, stream: true }, "stream", /not streamed/);
});

test("embeddings from the ONNX model: base64 (the client's default) and float agree, related verses are closer", async () => {
  const input = ["And God said, Let there be light: and there was light.", "And God saw the light, that it was good.", "The sons of Judah were Er and Onan."];
  const floats = await client.embeddings.create({ model: EMBED, input, encoding_format: "float" });
  const b64 = await client.embeddings.create({ model: EMBED, input });
  assert.equal(floats.data.length, 3);
  assert.equal(floats.data[0]!.embedding.length, 256);
  for (let i = 0; i < 3; i++) {
    floats.data[i]!.embedding.forEach((v, j) => assert.ok(Math.abs(v - b64.data[i]!.embedding[j]!) < 1e-6));
  }
  const cos = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
  const [light, good, judah] = floats.data.map((d) => d.embedding);
  assert.ok(cos(light!, good!) > cos(light!, judah!));
  assert.ok(floats.usage.prompt_tokens > 10);
});

test("json_schema output is enforced by grammar and parses back", async () => {
  const r = await client.chat.completions.create({
    model: CHAT,
    messages: [{ role: "user", content: "Who begat Isaac? Answer in JSON." }],
    max_tokens: 100,
    temperature: 0,
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "answer",
        strict: true,
        schema: { type: "object", properties: { name: { type: "string", maxLength: 20 }, sons: { type: "integer" } }, required: ["name", "sons"], additionalProperties: false },
      },
    },
  });
  const content = r.choices[0]!.message.content!;
  const parsed = JSON.parse(content) as { name: unknown; sons: unknown };
  assert.equal(typeof parsed.name, "string");
  assert.ok(Number.isInteger(parsed.sons));
  const obj = await client.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "JSON please" }], max_tokens: 100, temperature: 0, response_format: { type: "json_object" } });

  // json_object only promises JSON syntax; as with OpenAI, a reply cut at max_tokens ("length") is not complete JSON
  const choice = obj.choices[0]!;
  assert.match(choice.message.content!, /^\s*\{/);
  if (choice.finish_reason === "stop") assert.equal(typeof JSON.parse(choice.message.content!), "object");
});

test("metrics count requests, tokens and time to first token", async () => {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  assert.match(text, /edged_http_requests_total\{route="\/v1\/chat\/completions",status="200"\} \d+/);
  assert.match(text, /edged_time_to_first_token_seconds_count\{model="edged-kjv:q4_k_m"\} \d+/);
  assert.match(text, /edged_completion_tokens_total\{model="edged-kjv:q4_k_m"\} \d+/);
  assert.match(text, /edged_queue_depth\{device="cpu"\} 0/);
  assert.match(text, /edged_slots_busy\{device="cpu"\} \d/);
  assert.equal((await fetch(`${daemon.url}/health`)).status, 200);
  assert.equal((await fetch(`${daemon.url}/ready`)).status, 200);
});
