/**
 * Tools through both providers against the fake cloud: definitions, tool_choice and parallel calls translated to
 * each wire format, calls read back from a whole answer and from a stream in fragments, a tool-result round trip
 * (the fake checks the history as the real APIs do), and a stream cut in the middle of a call's arguments.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CloudError } from "../../src/cloud/errors.js";
import type { CloudChatRequest, ToolDefinition } from "../../src/cloud/types.js";
import { ask, collect, setup } from "./harness.js";

const WEATHER: ToolDefinition = { name: "get_weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
const COUNT: ToolDefinition = { name: "count_words", parameters: { type: "object", properties: { n: { type: "integer" } } } };
const withTools = (extra: Partial<CloudChatRequest> = {}) => ask("weather in Paris", { tools: [WEATHER, COUNT], ...extra });

for (const kind of ["openai", "anthropic"] as const) {
  test(`${kind}: tools and tool_choice go out in the provider's shape`, async (t) => {
    const { fake, provider } = await setup(t, { kind });
    await provider.chat(withTools({ tool_choice: { name: "count_words" }, parallel_tool_calls: false }));
    const body = fake.requests[0]!.body as Record<string, unknown>;
    if (kind === "openai") {
      assert.deepEqual(body.tools, [
        { type: "function", function: { name: "get_weather", description: "The weather in a city", parameters: WEATHER.parameters } },
        { type: "function", function: { name: "count_words", parameters: COUNT.parameters } },
      ]);
      assert.deepEqual(body.tool_choice, { type: "function", function: { name: "count_words" } });
      assert.equal(body.parallel_tool_calls, false);
    } else {
      assert.deepEqual(body.tools, [
        { name: "get_weather", description: "The weather in a city", input_schema: WEATHER.parameters },
        { name: "count_words", input_schema: COUNT.parameters },
      ]);
      assert.deepEqual(body.tool_choice, { type: "tool", name: "count_words", disable_parallel_tool_use: true });
    }
  });

  test(`${kind}: tool_choice none, required and auto`, async (t) => {
    const { fake, provider } = await setup(t, { kind });
    const none = await provider.chat(withTools({ tool_choice: "none" }));
    assert.equal(none.toolCalls, undefined);
    assert.equal(none.finishReason, "stop");
    const required = await provider.chat(withTools({ tool_choice: "required", parallel_tool_calls: false }));
    assert.deepEqual(
      required.toolCalls?.map((c) => c.name),
      ["get_weather"],
    );
    const choices = fake.requests.map((r) => (r.body as { tool_choice?: unknown }).tool_choice);
    assert.deepEqual(choices, kind === "openai" ? ["none", "required"] : [{ type: "none" }, { type: "any", disable_parallel_tool_use: true }]);
  });

  test(`${kind}: a whole answer's parallel calls, with finish reason tool_calls`, async (t) => {
    const { provider } = await setup(t, { kind });
    const result = await provider.chat(withTools());
    assert.equal(result.finishReason, "tool_calls");
    assert.equal(result.text, "");
    assert.deepEqual(
      result.toolCalls?.map((c) => [c.name, JSON.parse(c.arguments)]),
      [
        ["get_weather", { city: "weather in Paris" }],
        ["count_words", { n: 3 }],
      ],
    );
    for (const call of result.toolCalls!) assert.match(call.id, kind === "openai" ? /^call_/ : /^toolu_/);
  });

  test(`${kind}: a streamed call arrives as its id and name, then its arguments in fragments`, async (t) => {
    const { provider } = await setup(t, { kind });
    const { text, calls, done } = await collect(await provider.stream(withTools({ parallel_tool_calls: false })));
    assert.equal(text, "");
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.name, "get_weather");
    assert.deepEqual(JSON.parse(calls[0]!.arguments), { city: "weather in Paris" });
    assert.ok(calls[0]!.fragments > 1, `fragments: ${calls[0]!.fragments}`);
    assert.equal(done?.finishReason, "tool_calls");
  });

  test(`${kind}: a tool result round trip`, async (t) => {
    const { fake, provider } = await setup(t, { kind });
    const first = await provider.chat(withTools({ parallel_tool_calls: false }));
    const call = first.toolCalls![0]!;
    const history: CloudChatRequest["messages"] = [
      { role: "user", content: "weather in Paris" },
      { role: "assistant", content: "", toolCalls: [call] },
      { role: "tool", toolCallId: call.id, content: "sunny, 21 C" },
    ];
    const second = await provider.chat({ ...withTools(), messages: history });
    assert.equal(second.text, "Tool said: sunny, 21 C");
    assert.equal(second.finishReason, "stop");
    const sent = (fake.requests[1]!.body as { messages: unknown[] }).messages;
    if (kind === "openai") {
      assert.deepEqual(sent.slice(1), [
        { role: "assistant", content: null, tool_calls: [{ id: call.id, type: "function", function: { name: "get_weather", arguments: call.arguments } }] },
        { role: "tool", tool_call_id: call.id, content: "sunny, 21 C" },
      ]);
    } else {
      assert.deepEqual(sent.slice(1), [
        { role: "assistant", content: [{ type: "tool_use", id: call.id, name: "get_weather", input: { city: "weather in Paris" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "sunny, 21 C" }] },
      ]);
    }
  });

  test(`${kind}: a result answering no call is the provider's 400`, async (t) => {
    const { provider } = await setup(t, { kind });
    const history: CloudChatRequest["messages"] = [
      { role: "user", content: "weather?" },
      { role: "tool", toolCallId: "call_nobody", content: "sunny" },
    ];
    await assert.rejects(provider.chat({ ...withTools(), messages: history }), (e: unknown) => e instanceof CloudError && e.kind === "status" && e.status === 400);
  });

  test(`${kind}: a stream cut in the middle of a call's arguments throws stream_cut`, async (t) => {
    const { fake, provider } = await setup(t, { kind });
    // openai: role chunk, call head, then fragments; anthropic: message_start, block start, then fragments
    fake.setFaults([{ resetAfterChunks: 4 }]);
    const events = await provider.stream(withTools({ parallel_tool_calls: false }));
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of events) seen.push(e.type);
      })(),
      (e: unknown) => e instanceof CloudError && e.kind === "stream_cut",
    );
    assert.deepEqual(seen.slice(0, 2), ["call", "arguments"]);
    assert.ok(!seen.includes("done"));
  });
}
