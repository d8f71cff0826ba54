import assert from "node:assert/strict";
import { test } from "node:test";
import { CloudError } from "../../src/cloud/errors.js";
import type { CloudChatRequest } from "../../src/cloud/types.js";
import { collect, KEY, setup } from "./harness.js";

const CONVERSATION: CloudChatRequest = {
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "hello there" },
    { role: "assistant", content: "Hi." },
    { role: "system", content: "Answer in English." },
    { role: "user", content: "first part" },
    { role: "user", content: "second part" },
  ],
  max_tokens: 100,
  temperature: 0.5,
  top_p: 0.8,
  stop: ["END"],
  seed: 3,
};
// the fake answers from the last user turn as Anthropic received it: the two user messages merged
const ANSWER = "You said 4 words: first part\n\nsecond part".split(/\s+/).join(" ");

test("chat: translates the request to the Messages API and the message back", async (t) => {
  const { fake, provider } = await setup(t, { kind: "anthropic" });
  const result = await provider.chat(CONVERSATION);
  const [sent] = fake.requests;
  assert.equal(sent?.path, "/v1/messages");
  assert.equal(sent?.headers["x-api-key"], KEY);
  assert.equal(sent?.headers["anthropic-version"], "2023-06-01");
  assert.equal(sent?.headers.authorization, undefined);
  assert.deepEqual(sent?.body, {
    model: "cloud-model",
    max_tokens: 100,
    system: "Be brief.\n\nAnswer in English.",
    messages: [
      { role: "user", content: "hello there" },
      { role: "assistant", content: "Hi." },
      { role: "user", content: "first part\n\nsecond part" },
    ],
    stop_sequences: ["END"],
    temperature: 0.5,
    top_p: 0.8,
  });
  assert.equal(result.text, ANSWER);
  assert.equal(result.finishReason, "stop");
  assert.match(result.id, /^msg_/);
  // prompt: every word Anthropic received, the system prompt included
  assert.deepEqual(result.usage, { promptTokens: 12, completionTokens: 8 });
});

test("chat: max_tokens stop reason becomes length", async (t) => {
  const { provider } = await setup(t, { kind: "anthropic" });
  const result = await provider.chat({ ...CONVERSATION, max_tokens: 2 });
  assert.equal(result.text, "You said");
  assert.equal(result.finishReason, "length");
  assert.equal(result.usage.completionTokens, 2);
});

test("stream: the event sequence becomes text events and one done event with usage", async (t) => {
  const { fake, provider } = await setup(t, { kind: "anthropic" });
  const { text, done } = await collect(await provider.stream({ ...CONVERSATION, max_tokens: 3 }));
  assert.equal(text, "You said 4");
  assert.deepEqual(done, { type: "done", finishReason: "length", usage: { promptTokens: 12, completionTokens: 3 }, model: "cloud-model", id: done?.id });
  assert.match(done?.id ?? "", /^msg_/);
  assert.equal((fake.requests[0]?.body as { stream?: boolean }).stream, true);
});

test("an error event in the stream throws a CloudError stream_cut with Anthropic's error type", async (t) => {
  const { fake, provider } = await setup(t, { kind: "anthropic" });
  fake.setFaults([{ streamErrorAfterChunks: 4 }]);
  await assert.rejects(collect(await provider.stream(CONVERSATION)), (e: CloudError) => e.kind === "stream_cut" && /overloaded_error: Overloaded/.test(e.message));
});

test("a stream cut before message_stop throws stream_cut, never ends silently", async (t) => {
  const { fake, provider } = await setup(t, { kind: "anthropic" });
  fake.setFaults([{ resetAfterChunks: 5 }]);
  let text = "";
  await assert.rejects(
    async () => {
      for await (const event of await provider.stream(CONVERSATION)) if (event.type === "text") text += event.text;
    },
    (e: CloudError) => e instanceof CloudError && e.kind === "stream_cut",
  );
  assert.equal(text, "You said");
});

test("529 overloaded is retried like a 5xx", async (t) => {
  const { fake, provider, sleeps } = await setup(t, { kind: "anthropic" });
  fake.setFaults([{ status: 529 }]);
  assert.equal((await provider.chat(CONVERSATION)).text, ANSWER);
  assert.equal(sleeps.length, 1);
  assert.deepEqual(fake.requests.map((r) => r.outcome), ["fault", "completed"]);
});

test("a request Anthropic refuses (400: no user or assistant turn) is not retried; the error carries its message", async (t) => {
  const { fake, provider } = await setup(t, { kind: "anthropic" });
  await assert.rejects(
    provider.chat({ messages: [{ role: "system", content: "only a system prompt" }], max_tokens: 10 }),
    (e: CloudError) => e.kind === "status" && e.status === 400 && /messages/.test(e.message),
  );
  assert.equal(fake.requests.length, 1);
});

test("a wrong key: 401 in Anthropic's error shape, the key scrubbed from the message", async (t) => {
  const { fake, provider } = await setup(t, { kind: "anthropic", config: { apiKey: "sk-ant-wrong-0123456789" } });
  await assert.rejects(provider.chat(CONVERSATION), (e: CloudError) => e.status === 401 && /invalid x-api-key: \[redacted\]/.test(e.message) && !e.message.includes("sk-ant-wrong"));
  await assert.rejects(provider.probe(), (e: CloudError) => e.status === 401);
  assert.equal(fake.requests.length, 2);
});

test("probe: an authenticated GET of the model list", async (t) => {
  const { fake, provider } = await setup(t, { kind: "anthropic" });
  await provider.probe();
  assert.equal(fake.requests[0]?.path, "/v1/models");
  assert.equal(fake.requests[0]?.headers["x-api-key"], KEY);
});
