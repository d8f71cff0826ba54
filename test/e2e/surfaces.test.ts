/**
 * Every API surface on the device, driven by the official clients: OpenAI Responses (create, stream, stored
 * responses, previous_response_id), Anthropic Messages (create, stream, count_tokens, x-api-key), token
 * log-probabilities on chat, text completions and Ollama, llama.cpp's /tokenize and /detokenize, and model details.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import Anthropic, { APIError as AnthropicError } from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI, { APIError } from "openai";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";

const CHAT = "edged-kjv:q4_k_m";
const KEY = "sk-edged-test-key";
let daemon: RunningDaemon;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  daemon = await startDaemon({ env: { EDGED_API_KEYS: KEY } });
  openai = new OpenAI({ baseURL: daemon.baseURL, apiKey: KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: daemon.url, apiKey: KEY, maxRetries: 0 });
});
after(async () => {
  await daemon.stop();
});

async function post(path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) {
  const res = await fetch(`${daemon.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

test("responses.create answers on the device, stores the response, and GET, input_items and DELETE work", async () => {
  const r = await openai.responses.create({ model: CHAT, input: "In the beginning God created", instructions: "Answer in the words of the scripture.", max_output_tokens: 12, temperature: 0.5 });
  assert.equal(r.object, "response");
  assert.match(r.id, /^resp_/);
  assert.ok(["completed", "incomplete"].includes(r.status!));
  assert.ok(r.output_text.length > 0, "the SDK finds the output text");
  assert.equal(r.output[0]!.type, "message");
  assert.equal(r.usage!.output_tokens <= 12, true);
  assert.ok(r.usage!.input_tokens > 5);
  assert.equal(r.instructions, "Answer in the words of the scripture.");

  const again = await openai.responses.retrieve(r.id);
  assert.deepEqual(again.output, r.output);
  const items = await openai.responses.inputItems.list(r.id);
  assert.equal(items.data.length, 1);
  assert.equal(items.data[0]!.type, "message");
  assert.deepEqual((items.data[0] as { content: unknown }).content, [{ type: "input_text", text: "In the beginning God created" }]);

  const unstored = await openai.responses.create({ model: CHAT, input: "And the earth", max_output_tokens: 4, store: false });
  await assert.rejects(openai.responses.retrieve(unstored.id), (e: APIError) => e.status === 404);

  await openai.responses.delete(r.id);
  await assert.rejects(openai.responses.retrieve(r.id), (e: APIError) => e.status === 404);
  await assert.rejects(openai.responses.delete(r.id), (e: APIError) => e.status === 404);
});

test("previous_response_id continues the stored conversation and reuses its evaluated prefix", async () => {
  const first = await openai.responses.create({ model: CHAT, input: "And God said, Let there be light", max_output_tokens: 16, temperature: 0 });
  const second = await openai.responses.create({ model: CHAT, input: "And God saw the light", previous_response_id: first.id, max_output_tokens: 8, temperature: 0 });
  assert.equal(second.previous_response_id, first.id);
  // the second prompt holds the first turn and its answer: more input than the first, most of it already evaluated
  assert.ok(second.usage!.input_tokens > first.usage!.input_tokens + first.usage!.output_tokens, JSON.stringify(second.usage));
  // everything the first turn evaluated: its prompt and its answer's tokens (the last one sampled, never evaluated)
  assert.ok(second.usage!.input_tokens_details.cached_tokens >= first.usage!.input_tokens + first.usage!.output_tokens - 1, JSON.stringify({ first: first.usage, second: second.usage }));
  const items = await openai.responses.inputItems.list(second.id);
  assert.equal(items.data.length, 1, "input_items lists this response's own input");

  await assert.rejects(
    openai.responses.create({ model: CHAT, input: "more", previous_response_id: "resp_missing" }),
    (e: APIError) => e.status === 404 && e.param === "previous_response_id",
  );
});

test("responses.stream emits the real event sequence and its final response is stored", async () => {
  const stream = openai.responses.stream({ model: CHAT, input: "The Lord is my shepherd", max_output_tokens: 10 });
  const types: string[] = [];
  let deltas = "";
  let sequence = -1;
  for await (const event of stream) {
    types.push(event.type);
    assert.equal(event.sequence_number, sequence + 1, "sequence numbers count up from 0");
    sequence = event.sequence_number;
    if (event.type === "response.output_text.delta") deltas += event.delta;
  }
  const final = await stream.finalResponse();
  assert.deepEqual(types.slice(0, 4), ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
  assert.deepEqual(types.slice(-4, -1), ["response.output_text.done", "response.content_part.done", "response.output_item.done"]);
  assert.ok(["response.completed", "response.incomplete"].includes(types.at(-1)!));
  assert.equal(final.output_text, deltas);
  assert.equal((await openai.responses.retrieve(final.id)).output_text, deltas);
});

test("responses: json_schema is enforced; hosted tools and images are refused with 400 naming them", async () => {
  const schema = { type: "object", properties: { verse: { type: "integer", minimum: 1, maximum: 31 } }, required: ["verse"], additionalProperties: false };
  const r = await openai.responses.create({ model: CHAT, input: "Pick a verse", max_output_tokens: 200, temperature: 0, text: { format: { type: "json_schema", name: "verse", schema, strict: true } } });
  assert.equal(r.status, "completed");
  const verse = JSON.parse(r.output_text) as { verse: number };
  assert.ok(Number.isInteger(verse.verse) && verse.verse >= 1 && verse.verse <= 31);

  await assert.rejects(openai.responses.create({ model: CHAT, input: "hi", tools: [{ type: "web_search" }] }), (e: APIError) => e.status === 400 && e.param === "tools" && /web_search/.test(e.message));
  const image = await post("/v1/responses", { model: CHAT, input: [{ role: "user", content: [{ type: "input_image", image_url: "data:," }] }] });
  assert.equal(image.status, 400);
  assert.match(image.body.error.message, /images/);
});

test("messages.create answers in Anthropic's shape with a stop_sequence, and accepts x-api-key", async () => {
  const m = await anthropic.messages.create({ model: CHAT, max_tokens: 24, system: "You speak as the scripture.", messages: [{ role: "user", content: "In the beginning" }] });
  assert.equal(m.type, "message");
  assert.equal(m.role, "assistant");
  assert.match(m.id, /^msg_/);
  assert.equal(m.content[0]!.type, "text");
  assert.ok(["end_turn", "max_tokens"].includes(m.stop_reason!));
  assert.ok(m.usage.input_tokens > 5 && m.usage.output_tokens > 0);

  // older clients send sampling fields this SDK no longer types; the server honours them
  const greedy = { model: CHAT, max_tokens: 64, temperature: 0, stop_sequences: [" "], messages: [{ role: "user" as const, content: "And God said" }] };
  const stopped = await anthropic.messages.create(greedy);
  assert.equal(stopped.stop_reason, "stop_sequence");
  assert.equal(stopped.stop_sequence, " ");
  assert.ok(!(stopped.content[0] as { text: string }).text.includes(" "));

  const viaHeader = await post("/v1/messages", { model: CHAT, max_tokens: 4, messages: [{ role: "user", content: "Amen" }] }, { "x-api-key": KEY, "anthropic-version": "2023-06-01" });
  assert.equal(viaHeader.status, 200);
  const wrongKey = await post("/v1/messages", { model: CHAT, max_tokens: 4, messages: [{ role: "user", content: "Amen" }] }, { "x-api-key": "nope" });
  assert.equal(wrongKey.status, 401);
  assert.equal(wrongKey.body.type, "error");
  assert.equal(wrongKey.body.error.type, "authentication_error");
});

test("messages.stream delivers Anthropic's events and the SDK assembles the message", async () => {
  const stream = anthropic.messages.stream({ model: CHAT, max_tokens: 16, messages: [{ role: "user", content: "The Lord is my shepherd" }] });
  const types: string[] = [];
  let text = "";
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
  }
  const final = await stream.finalMessage();
  assert.deepEqual(types.slice(0, 2), ["message_start", "content_block_start"]);
  assert.deepEqual(types.slice(-3), ["content_block_stop", "message_delta", "message_stop"]);
  assert.equal((final.content[0] as { text: string }).text, text);
  assert.ok(final.usage.output_tokens > 0);
  assert.ok(final.usage.input_tokens > 0);
});

test("count_tokens counts the conversation as the model's template renders it", async () => {
  const messages = [{ role: "user" as const, content: "In the beginning God created the heaven and the earth." }];
  const counted = await anthropic.messages.countTokens({ model: CHAT, messages });
  const answered = await anthropic.messages.create({ model: CHAT, max_tokens: 1, messages });
  assert.equal(counted.input_tokens, answered.usage.input_tokens);
  const longer = await anthropic.messages.countTokens({ model: CHAT, system: "You are the scripture.", messages });
  assert.ok(longer.input_tokens > counted.input_tokens);
});

test("Anthropic errors come in Anthropic's shape: max_tokens is required, images and bad tools are refused, unknown models are 404", async () => {
  const noMax = await post("/v1/messages", { model: CHAT, messages: [{ role: "user", content: "hi" }] });
  assert.equal(noMax.status, 400);
  assert.deepEqual(Object.keys(noMax.body).sort(), ["error", "type"]);
  assert.equal(noMax.body.error.type, "invalid_request_error");
  assert.match(noMax.body.error.message, /max_tokens/);
  const image = await post("/v1/messages", { model: CHAT, max_tokens: 4, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "" } }] }] });
  assert.equal(image.status, 400);
  assert.match(image.body.error.message, /images/);
  await assert.rejects(
    anthropic.messages.create({ model: CHAT, max_tokens: 4, tools: [{ name: "bad name", input_schema: { type: "object" } }], messages: [{ role: "user", content: "hi" }] }),
    (e: AnthropicError) => e.status === 400 && /tool names/.test(e.message),
  );
  await assert.rejects(anthropic.messages.create({ model: "no-such-model", max_tokens: 4, messages: [{ role: "user", content: "hi" }] }), (e: AnthropicError) => e.status === 404 && e instanceof Anthropic.NotFoundError);
  const hot = await post("/v1/messages", { model: CHAT, max_tokens: 4, temperature: 1.5, messages: [{ role: "user", content: "hi" }] });
  assert.equal(hot.status, 400, "Anthropic's temperature range is 0-1");
  const bad = await fetch(`${daemon.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": KEY }, body: "{not json" });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { type: string }).type, "error");
  const huge = await post("/v1/messages", { model: CHAT, max_tokens: 4, messages: [{ role: "user", content: "x".repeat(2 * 1024 * 1024) }] });
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error.type, "request_too_large");
  const unknownPath = await post("/v1/messages/batches", {});
  assert.equal(unknownPath.status, 404);
  assert.equal(unknownPath.body.error.type, "not_found_error");
});

test("Responses errors come in OpenAI's shape: bad input, bad ids, unsupported modes", async () => {
  const bad = await post("/v1/responses", { model: CHAT, input: 42 });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.type, "invalid_request_error");
  assert.equal(bad.body.error.param, "input");
  assert.equal((await post("/v1/responses", { model: CHAT, input: "hi", background: true })).body.error.param, "background");
  assert.equal((await post("/v1/responses", { model: CHAT, input: "hi", include: ["file_search_call.results"] })).status, 400);
  assert.equal((await post("/v1/responses", { model: "no-such-model", input: "hi" })).status, 404);
  const items = await fetch(`${daemon.url}/v1/responses/resp_nope/input_items?limit=500`, { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(items.status, 400, "limit is checked first");
});

test("chat logprobs: each token with its log-probability, bytes and top alternatives, in stream chunks too", async () => {
  const r = await openai.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "In the beginning" }], max_tokens: 8, logprobs: true, top_logprobs: 3, temperature: 0 });
  const content = r.choices[0]!.logprobs!.content!;
  assert.equal(content.map((c) => c.token).join(""), r.choices[0]!.message.content);
  for (const c of content) {
    assert.ok(c.logprob <= 0);
    assert.deepEqual(c.bytes, [...Buffer.from(c.token, "utf8")]);
    assert.equal(c.top_logprobs.length, 3);
    assert.ok(c.top_logprobs[0]!.logprob >= c.top_logprobs[1]!.logprob && c.top_logprobs[1]!.logprob >= c.top_logprobs[2]!.logprob);
    // greedy decoding picks the likeliest token
    assert.equal(c.top_logprobs[0]!.token, c.token);
    assert.equal(c.top_logprobs[0]!.logprob, c.logprob);
  }
  const stream = await openai.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "In the beginning" }], max_tokens: 8, logprobs: true, temperature: 0, stream: true });
  const streamed: string[] = [];
  for await (const chunk of stream) for (const c of chunk.choices[0]?.logprobs?.content ?? []) streamed.push(c.token);
  assert.deepEqual(streamed, content.map((c) => c.token), "the same tokens, streamed");

  const none = await openai.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
  assert.equal(none.choices[0]!.logprobs, null);
  await assert.rejects(openai.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }], top_logprobs: 2 }), (e: APIError) => e.status === 400 && e.param === "top_logprobs");
  await assert.rejects(openai.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }], logprobs: true, top_logprobs: 21 }), (e: APIError) => e.status === 400);
  await assert.rejects(openai.chat.completions.create({ model: CHAT, messages: [{ role: "user", content: "hi" }], n: 2 }), (e: APIError) => e.status === 400 && e.param === "n");
});

test("text completions give the legacy logprobs object; Ollama gives its own", async () => {
  const r = await openai.completions.create({ model: CHAT, prompt: "And God said", max_tokens: 6, logprobs: 2, temperature: 0 });
  const lp = r.choices[0]!.logprobs!;
  assert.equal(lp.tokens!.join(""), r.choices[0]!.text);
  assert.equal(lp.token_logprobs!.length, lp.tokens!.length);
  assert.equal(Object.keys(lp.top_logprobs![0]!).length, 2);
  assert.equal(lp.text_offset![0], 0);

  const ollama = new Ollama({ host: daemon.url, headers: { authorization: `Bearer ${KEY}` } });
  const chat = await ollama.chat({ model: CHAT, messages: [{ role: "user", content: "In the beginning" }], options: { num_predict: 6, temperature: 0 }, logprobs: true, top_logprobs: 2 });
  assert.ok(chat.logprobs!.length > 0);
  assert.equal(chat.logprobs!.map((l) => l.token).join(""), chat.message.content);
  assert.equal(chat.logprobs![0]!.top_logprobs!.length, 2);
});

test("/tokenize and /detokenize speak llama.cpp server's shape; bad token ids are refused", async () => {
  const t = await post("/tokenize", { content: "In the beginning" });
  assert.equal(t.status, 200);
  assert.ok(Array.isArray(t.body.tokens) && t.body.tokens.every(Number.isInteger));
  const withBos = await post("/tokenize", { content: "In the beginning", add_special: true });
  assert.ok(withBos.body.tokens.length >= t.body.tokens.length);
  const pieces = await post("/tokenize", { content: "In the beginning", with_pieces: true });
  assert.equal(pieces.body.tokens.map((p: { piece: string }) => p.piece).join(""), (await post("/detokenize", { tokens: t.body.tokens })).body.content);
  assert.equal((await post("/detokenize", { tokens: t.body.tokens })).body.content.trim(), "In the beginning");
  const bad = await post("/detokenize", { tokens: [1, 99_999_999] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, "tokens.1");
  assert.equal((await post("/detokenize", { tokens: [-1] })).status, 400);
  assert.equal((await post("/tokenize", { content: "x", model: "no-such-model" })).status, 404);
});

test("GET /v1/models/{id} lists context length and capabilities", async () => {
  const chat = (await openai.models.retrieve(CHAT)) as unknown as { context_length: number; capabilities: Record<string, boolean> };
  assert.ok(chat.context_length > 0);
  assert.deepEqual(chat.capabilities, { chat: true, completion: true, tools: true, json_schema: true, logprobs: true, embeddings: false });
  const embed = (await openai.models.retrieve("edged-embed:q4")) as unknown as { dimensions: number; capabilities: Record<string, boolean> };
  assert.equal(embed.capabilities.embeddings, true);
  assert.ok(embed.dimensions > 0);
});
