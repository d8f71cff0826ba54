import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import OpenAI from "openai";
import { CloudError } from "../../src/cloud/errors.js";
import { createProvider } from "../../src/cloud/providers.js";
import { startFakeCloud } from "../fakeCloud/fakeCloud.js";
import { ask, collect, KEY, setup } from "./harness.js";

const QUESTION = "what is the capital of France";
const ANSWER = `You said 6 words: ${QUESTION}`;

test("chat: sends the OpenAI request with a Bearer key and reads the completion back", async (t) => {
  const { fake, provider } = await setup(t);
  const result = await provider.chat(ask(QUESTION, { temperature: 0.2, top_p: 0.9, stop: ["\n\n"], seed: 7 }));
  assert.equal(result.text, ANSWER);
  assert.equal(result.finishReason, "stop");
  assert.equal(result.model, "cloud-model");
  assert.match(result.id, /^chatcmpl-/);
  assert.deepEqual(result.usage, { promptTokens: 6, completionTokens: 10 });
  const [sent] = fake.requests;
  assert.equal(sent?.path, "/v1/chat/completions");
  assert.equal(sent?.headers.authorization, `Bearer ${KEY}`);
  assert.deepEqual(sent?.body, {
    model: "cloud-model",
    messages: [{ role: "user", content: QUESTION }],
    max_tokens: 64,
    temperature: 0.2,
    top_p: 0.9,
    stop: ["\n\n"],
    seed: 7,
  });
});

test("chat: the request's model overrides the configured one; max_tokens cuts the answer with finish reason length", async (t) => {
  const { provider } = await setup(t);
  const result = await provider.chat(ask(QUESTION, { model: "other-model", max_tokens: 3 }));
  assert.equal(result.model, "other-model");
  assert.equal(result.text, "You said 6");
  assert.equal(result.finishReason, "length");
  assert.equal(result.usage.completionTokens, 3);
});

test("stream: text deltas, then one done event with the finish reason and usage", async (t) => {
  const { fake, provider } = await setup(t);
  const { text, done } = await collect(await provider.stream(ask(QUESTION, { max_tokens: 5 })));
  assert.equal(text, "You said 6 words: what");
  assert.equal(done?.finishReason, "length");
  assert.deepEqual(done?.usage, { promptTokens: 6, completionTokens: 5 });
  assert.equal(done?.model, "cloud-model");
  assert.match(done?.id ?? "", /^chatcmpl-/);
  const body = fake.requests[0]?.body as Record<string, unknown>;
  assert.equal(body.stream, true);
  assert.deepEqual(body.stream_options, { include_usage: true });
});

test("the official openai client parses the fake's stream to the same text the provider reads", async (t) => {
  const { fake, provider } = await setup(t);
  const client = new OpenAI({ baseURL: fake.openaiBaseUrl, apiKey: KEY, maxRetries: 0 });
  const chunks = await client.chat.completions.create({
    model: "cloud-model",
    messages: [{ role: "user", content: QUESTION }],
    max_tokens: 64,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let finish: string | null | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of chunks) {
    text += chunk.choices[0]?.delta.content ?? "";
    finish ??= chunk.choices[0]?.finish_reason;
    usage ??= chunk.usage;
  }
  assert.equal(text, (await collect(await provider.stream(ask(QUESTION)))).text);
  assert.equal(text, ANSWER);
  assert.equal(finish, "stop");
  assert.equal(usage?.completion_tokens, 10);
  const completion = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: QUESTION }] });
  assert.equal(completion.choices[0]?.message.content, ANSWER);
});

test("an error object inside the stream throws a CloudError stream_cut carrying the provider's message", async (t) => {
  const { fake, provider } = await setup(t);
  fake.setFaults([{ streamErrorAfterChunks: 3 }]);
  let text = "";
  await assert.rejects(
    async () => {
      for await (const event of await provider.stream(ask(QUESTION))) if (event.type === "text") text += event.text;
    },
    (e: CloudError) => e instanceof CloudError && e.kind === "stream_cut" && /error while processing/.test(e.message) && !e.beforeFirstByte,
  );
  assert.equal(text, "You said");
});

test("a wrong key is refused with 401, not retried, and the key never appears in the error", async (t) => {
  const { fake } = await setup(t);
  const wrongKey = "sk-wrong-7d1e0c2b9a8f";
  const { provider, close } = createProvider({ id: "wrong", kind: "openai", baseUrl: fake.openaiBaseUrl, model: "m", apiKey: wrongKey }, { sleep: async () => {} });
  t.after(close);
  const error = await provider.chat(ask(QUESTION)).then(
    () => assert.fail("expected a 401"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof CloudError);
  assert.equal(error.kind, "status");
  assert.equal(error.status, 401);
  assert.match(error.message, /Incorrect API key provided: \[redacted\]/, "the fake echoed the key; the client scrubbed it");
  assert.ok(!inspect(error).includes(wrongKey));
  assert.equal(fake.requests.length, 1);
  await assert.rejects(provider.probe(), (e: CloudError) => e.status === 401 && !e.message.includes(wrongKey));
});

test("without a key (none configured, none in the environment) no Authorization header is sent", async (t) => {
  const fake = await startFakeCloud();
  const { provider, close } = createProvider({ id: "local", kind: "openai", baseUrl: fake.openaiBaseUrl, model: "m" }, { env: {} });
  t.after(async () => {
    await close();
    await fake.stop();
  });
  await provider.chat(ask("hi"));
  await provider.probe();
  assert.deepEqual(
    fake.requests.map((r) => r.headers.authorization),
    [undefined, undefined],
  );
});

test("the key comes from the environment variable named by apiKeyEnv, or OPENAI_API_KEY", async (t) => {
  const fake = await startFakeCloud({ apiKey: KEY });
  const named = createProvider({ id: "a", kind: "openai", baseUrl: fake.openaiBaseUrl, model: "m", apiKeyEnv: "MY_KEY" }, { env: { MY_KEY: KEY } });
  const fallback = createProvider({ id: "b", kind: "openai", baseUrl: fake.openaiBaseUrl, model: "m" }, { env: { OPENAI_API_KEY: KEY } });
  t.after(async () => {
    await named.close();
    await fallback.close();
    await fake.stop();
  });
  await named.provider.probe();
  await fallback.provider.probe();
  assert.equal(fake.requests[0]?.headers.authorization, `Bearer ${KEY}`);
  assert.equal(fake.requests[1]?.headers.authorization, `Bearer ${KEY}`);
});
