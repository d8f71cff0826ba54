/**
 * Tool calls through the router to the cloud: the real daemon on the bundled model escalating to loopback fake
 * clouds in both wire protocols, driven by the official clients. Tools and results pass to an OpenAI-compatible
 * provider as they are and are translated both ways for Anthropic; streamed arguments are relayed in fragments; the
 * fallback chain, the device fallback and the cascade work with tool answers; a cut stream ends in the surface's
 * error; a cloud calling a tool that was not offered is refused; tool arguments and results are redacted before they
 * leave and count against the token budget; a deferred tool request keeps its tools across a SIGKILL.
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
import { until } from "../helpers/until.js";

const MODEL = "edged-kjv:q4_k_m";
let openaiCloud: FakeCloud;
let anthropicCloud: FakeCloud;
let daemon: RunningDaemon;
let openai: OpenAI;

// no descriptions: the bundled model's context is 512 tokens, and the device renders the tools too
const weather = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const count = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
const tools: OpenAI.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_weather", parameters: weather } },
  { type: "function", function: { name: "count_words", parameters: count } },
];
const ask = (content: string): OpenAI.ChatCompletionMessageParam[] => [{ role: "user", content }];
const functionCalls = (m: { tool_calls?: unknown[] | null }) => (m.tool_calls ?? []) as OpenAI.ChatCompletionMessageFunctionToolCall[];
const sent = (cloud: FakeCloud) => cloud.requests.at(-1)!.body as Record<string, any>;

/** A configuration of the two clouds and the routes under test, each sending every request to the cloud but the cascade. */
async function configFile(extra: { budgets?: object; offline?: object } = {}): Promise<string> {
  const config = join(scratchDir(), "edged.json");
  const fast = { retry: { maxRetries: 0 }, breaker: { failureThreshold: 50 } };
  await writeFile(
    config,
    JSON.stringify({
      cloud: {
        providers: fakeProviders(openaiCloud, anthropicCloud, { openai: { apiKey: "sk-test-openai" }, anthropic: { apiKey: "sk-ant-test" } }, fast),
      },
      router: everyRequestToTheCloud(
        [
          { model: "via-openai", local: MODEL, cloud: ["openai-a"], fallbackToLocal: false },
          { model: "via-anthropic", local: MODEL, cloud: ["anthropic-b"], fallbackToLocal: false },
          { model: "chain", local: MODEL, cloud: ["openai-a", "anthropic-b"], fallbackToLocal: false },
          { model: "or-device", local: MODEL, cloud: ["openai-a"], fallbackToLocal: true },
          { model: "cascade", local: MODEL, cloud: ["anthropic-b"], cascade: { tokens: 4, minMeanLogprob: -0.0001 }, difficultyThreshold: 1 },
          { model: "metered", local: MODEL, cloud: ["openai-a"], overBudget: "reject" },
        ],
        extra.budgets ? { budgets: extra.budgets } : {},
      ),
      ...(extra.offline && { offline: extra.offline }),
    }),
  );
  return config;
}

before(async () => {
  openaiCloud = await startFakeCloud({ apiKey: "sk-test-openai" });
  anthropicCloud = await startFakeCloud({ apiKey: "sk-ant-test" });
  daemon = await startDaemon({ args: ["--config", await configFile({ offline: { probeInterval: "100ms" } })] });
  openai = new OpenAI({ baseURL: daemon.baseURL, apiKey: "unused", maxRetries: 0 });
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

for (const [route, cloud] of [
  ["via-openai", () => openaiCloud],
  ["via-anthropic", () => anthropicCloud],
] as const) {
  test(`${route}: OpenAI chat with tools, whole and streamed, and the tool result round trip`, async () => {
    const r = await openai.chat.completions.create({ model: route, messages: ask("weather in Paris"), tools, tool_choice: "required", parallel_tool_calls: false, max_tokens: 50 }).withResponse();
    assert.equal(r.response.headers.get("x-edged-route"), "cloud");
    const choice = r.data.choices[0]!;
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, null);
    const [call] = functionCalls(choice.message);
    assert.equal(call!.function.name, "get_weather");
    assert.deepEqual(JSON.parse(call!.function.arguments), { city: "weather in Paris" });
    const body = sent(cloud());
    if (route === "via-openai") {
      assert.deepEqual(body.tools, tools, "passed to an OpenAI-compatible provider as they are");
      assert.equal(body.tool_choice, "required");
    } else {
      assert.deepEqual(body.tools, [
        { name: "get_weather", input_schema: weather },
        { name: "count_words", input_schema: count },
      ]);
      assert.deepEqual(body.tool_choice, { type: "any", disable_parallel_tool_use: true });
    }

    // streamed: the call's head, then its arguments in several fragments
    const stream = await openai.chat.completions.create({ model: route, messages: ask("weather in Oslo today"), tools, max_tokens: 50, stream: true });
    const calls: { id?: string; name?: string; arguments: string; fragments: number }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      for (const d of c?.delta.tool_calls ?? []) {
        const at = (calls[d.index] ??= { arguments: "", fragments: 0 });
        if (d.id) Object.assign(at, { id: d.id, name: d.function?.name });
        if (d.function?.arguments) {
          at.arguments += d.function.arguments;
          at.fragments++;
        }
      }
      finish = c?.finish_reason ?? finish;
    }
    assert.equal(finish, "tool_calls");
    assert.deepEqual(
      calls.map((c) => [c.name, JSON.parse(c.arguments)]),
      [
        ["get_weather", { city: "weather in Oslo today" }],
        ["count_words", { n: 4 }],
      ],
      "parallel calls, each reassembled into valid JSON",
    );
    assert.ok(calls[0]!.fragments > 1 && calls.every((c) => c.id), "arguments relayed as they arrive, each call with its id");

    // the result goes back; the cloud checks that it answers the call
    const history: OpenAI.ChatCompletionMessageParam[] = [...ask("weather in Paris"), choice.message as OpenAI.ChatCompletionMessageParam, { role: "tool", tool_call_id: call!.id, content: "sunny, 21 C" }];
    const answered = await openai.chat.completions.create({ model: route, messages: history, tools, max_tokens: 50 });
    assert.equal(answered.choices[0]!.message.content, "Tool said: sunny, 21 C");
    assert.equal(answered.choices[0]!.finish_reason, "stop");
  });
}

test("Anthropic Messages through an OpenAI cloud: tool_use blocks whole and streamed with input_json_delta, tool_result back", async () => {
  const anthropic = new Anthropic({ baseURL: daemon.url, apiKey: "unused", maxRetries: 0 });
  const anthropicTools = [{ name: "get_weather", input_schema: weather as Anthropic.Tool.InputSchema }];
  const m = await anthropic.messages.create({ model: "via-openai", max_tokens: 50, messages: [{ role: "user", content: "weather in Rome" }], tools: anthropicTools, tool_choice: { type: "any" } });
  assert.equal(m.stop_reason, "tool_use");
  const use = m.content.find((b) => b.type === "tool_use")!;
  assert.deepEqual([use.name, use.input], ["get_weather", { city: "weather in Rome" }]);
  assert.equal(sent(openaiCloud).tool_choice, "required");

  const stream = anthropic.messages.stream({ model: "via-openai", max_tokens: 50, messages: [{ role: "user", content: "weather in Rome" }], tools: anthropicTools });
  let fragments = 0;
  for await (const e of stream) if (e.type === "content_block_delta" && e.delta.type === "input_json_delta") fragments++;
  const final = await stream.finalMessage();
  assert.ok(fragments > 1, `fragments: ${fragments}`);
  assert.deepEqual(final.content.find((b) => b.type === "tool_use")!.input, { city: "weather in Rome" });

  const back = await anthropic.messages.create({
    model: "via-openai",
    max_tokens: 50,
    tools: anthropicTools,
    messages: [
      { role: "user", content: "weather in Rome" },
      { role: "assistant", content: m.content },
      { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "rain" }] },
    ],
  });
  assert.equal(back.content[0]!.type === "text" && back.content[0]!.text, "Tool said: rain");
});

test("Responses and Ollama through an Anthropic cloud: function_call items and Ollama's tool_calls", async () => {
  const r = await openai.responses.create({ model: "via-anthropic", input: "weather in Lima", tools: [{ type: "function", name: "get_weather", parameters: weather, strict: false }], tool_choice: "required", max_output_tokens: 50 });
  const item = r.output.find((o) => o.type === "function_call")!;
  assert.equal(item.type === "function_call" && item.name, "get_weather");
  assert.deepEqual(item.type === "function_call" && JSON.parse(item.arguments), { city: "weather in Lima" });

  const ollama = new Ollama({ host: daemon.url });
  const o = await ollama.chat({ model: "via-anthropic", messages: [{ role: "user", content: "weather in Lima" }], tools: [{ type: "function", function: { name: "get_weather", parameters: weather as never } }] });
  assert.deepEqual(o.message.tool_calls?.map((c) => [c.function.name, c.function.arguments]), [["get_weather", { city: "weather in Lima" }]]);
});

test("cascade: an unsure device answer escalates, and the cloud's tool call is the answer", async () => {
  const r = await openai.chat.completions
    .create({ model: "cascade", messages: ask("weather in Quito"), tools, parallel_tool_calls: false, max_tokens: 60, temperature: 0 }, { headers: { "x-edged-latency-budget-ms": "60000" } })
    .withResponse();
  assert.match(r.response.headers.get("x-edged-cascade")!, /^escalated/);
  assert.equal(r.response.headers.get("x-edged-route"), "cloud", `${r.response.headers.get("x-edged-route-reason")}; fallback: ${r.response.headers.get("x-edged-fallback")}`);
  assert.deepEqual(JSON.parse(functionCalls(r.data.choices[0]!.message)[0]!.function.arguments), { city: "weather in Quito" });
});

test("a stream cut in the middle of a call's arguments ends in an error, never a silent success", async () => {
  // role chunk, the call's head, one fragment, then the connection drops
  openaiCloud.setFaults([{ resetAfterChunks: 3 }]);
  const { data: stream, response } = await openai.chat.completions.create({ model: "via-openai", messages: ask("weather in Cairo"), tools, parallel_tool_calls: false, max_tokens: 50, stream: true }).withResponse();
  assert.equal(response.headers.get("x-edged-route"), "cloud", response.headers.get("x-edged-route-reason") ?? "");
  let args = "";
  await assert.rejects(async () => {
    for await (const chunk of stream) args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
  }, /broke off/);
  assert.ok(args.length > 0 && args.length < '{"city":"weather in Cairo"}'.length, `arguments seen: ${args}`);
});

test("a cloud that calls a tool it was not offered is refused, whole or streamed", async () => {
  openaiCloud.setFaults([{ callTool: "delete_everything" }, { callTool: "delete_everything" }]);
  await assert.rejects(openai.chat.completions.create({ model: "via-openai", messages: ask("weather in Baku"), tools, max_tokens: 50 }), (e: unknown) => e instanceof OpenAI.APIError && e.status === 502 && /delete_everything, which was not offered/.test(e.message));
  const stream = await openai.chat.completions.create({ model: "via-openai", messages: ask("weather in Baku"), tools, max_tokens: 50, stream: true });
  const names: string[] = [];
  await assert.rejects(async () => {
    for await (const chunk of stream) for (const d of chunk.choices[0]?.delta.tool_calls ?? []) if (d.function?.name) names.push(d.function.name);
  }, /not offered/);
  assert.deepEqual(names, [], "the made-up call never reaches the client");
});

test("tool-call arguments and tool results are redacted before they leave", async () => {
  const history: OpenAI.ChatCompletionMessageParam[] = [
    ...ask("mail the report"),
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: JSON.stringify({ city: "write to ann@example.com" }) } }] },
    { role: "tool", tool_call_id: "call_1", content: "sent; card 4111 1111 1111 1111 charged" },
  ];
  const r = await openai.chat.completions.create({ model: "via-openai", messages: history, tools, max_tokens: 50 }).withResponse();
  assert.equal(r.response.headers.get("x-edged-redactions"), "2");
  const out = sent(openaiCloud).messages as Record<string, any>[];
  assert.deepEqual(JSON.parse(out[1]!.tool_calls[0].function.arguments), { city: "write to [REDACTED_EMAIL]" }, "still valid JSON");
  assert.equal(out[2]!.content, "sent; card [REDACTED_CARD] charged");
  assert.equal(r.data.choices[0]!.message.content, "Tool said: sent; card [REDACTED_CARD] charged");
});

test("the token budget counts the tools: definitions that do not fit the key's budget are refused, the bare request is not", async () => {
  const metered = await startDaemon({ args: ["--config", await configFile({ budgets: { perKeyHourTokens: 150 } })] });
  try {
    const client = new OpenAI({ baseURL: metered.baseURL, apiKey: "sk-metered-key", maxRetries: 0 });
    const bare = await client.chat.completions.create({ model: "metered", messages: ask("weather in Accra"), max_tokens: 16 }).withResponse();
    assert.equal(bare.response.headers.get("x-edged-route"), "cloud");
    // the estimate is the rendered prompt (the tools' definitions included) plus max_tokens, against 150 tokens an hour
    const description = "Looks the value up in the almanac of the kingdom and tells it plainly to the one who asks for it. ".repeat(2);
    const described = tools.map((t) => ({ ...t, function: { ...(t as OpenAI.ChatCompletionFunctionTool).function, description } }));
    await assert.rejects(client.chat.completions.create({ model: "metered", messages: ask("weather in Accra"), tools: described, max_tokens: 16 }), (e: unknown) => e instanceof OpenAI.APIError && e.status === 429);
  } finally {
    await metered.stop();
  }
});

// next to last: it takes a cloud offline, and the daemon's one connectivity watcher can carry that episode a
// moment past the cloud's return, into a test that needs the cloud (the last test takes it offline itself)
test("the fallback chain and the device fallback answer with tools; calls are counted by route", async () => {
  openaiCloud.setFaults([{ status: 503 }]);
  const r = await openai.chat.completions.create({ model: "chain", messages: ask("weather in Kyiv"), tools, parallel_tool_calls: false, max_tokens: 50 }).withResponse();
  assert.equal(r.response.headers.get("x-edged-cloud-target"), "anthropic-b");
  assert.match(r.response.headers.get("x-edged-fallback")!, /^anthropic-b \(openai-a: status/);
  assert.equal(functionCalls(r.data.choices[0]!.message)[0]!.function.name, "get_weather");

  await openaiCloud.goOffline();
  try {
    const local = await openai.chat.completions
      .create({ model: "or-device", messages: ask("weather in Kyiv"), tools, tool_choice: { type: "function", function: { name: "count_words" } }, max_tokens: 60, temperature: 0 })
      .withResponse();
    assert.equal(local.response.headers.get("x-edged-route"), "local");
    assert.match(local.response.headers.get("x-edged-fallback")!, /^local/);
    const [call] = functionCalls(local.data.choices[0]!.message);
    assert.equal(call!.function.name, "count_words");
    assert.equal(typeof JSON.parse(call!.function.arguments).n, "number");
  } finally {
    await openaiCloud.goOnline();
  }
  // the daemon notices the cloud is back before the next test wants it
  await until("the cloud back online", async () => /edged_cloud_online 1/.test(await (await fetch(`${daemon.url}/metrics`)).text()) || undefined);
  const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
  assert.match(metrics, /edged_tool_calls_total\{tool="get_weather",route="cloud"\} [1-9]/);
  assert.match(metrics, /edged_tool_calls_total\{tool="count_words",route="local"\} [1-9]/);
});

test("a deferred tool request keeps its tools across a SIGKILL and is answered with its calls", { timeout: 120_000 }, async () => {
  await openaiCloud.goOffline();
  const dataDir = scratchDir("edged-tools-queue-");
  const config = await configFile({ offline: { probeInterval: "100ms", retryBaseMs: 20, retryMaxMs: 200 } });
  let queued = await startDaemon({ dataDir, args: ["--config", config] });
  try {
    const client = new OpenAI({ baseURL: queued.baseURL, apiKey: "unused", maxRetries: 0 });
    const r = await client.chat.completions
      .create({ model: "via-openai", messages: ask("weather in Tunis"), tools, tool_choice: "required", parallel_tool_calls: false, max_tokens: 50 }, { headers: { "x-edged-allow-defer": "true" } })
      .withResponse();
    assert.equal(r.response.status, 202);
    const job = r.data as unknown as { id: string };
    await queued.stop("SIGKILL");
    await openaiCloud.goOnline();
    queued = await startDaemon({ dataDir, args: ["--config", config] });
    const done = await until(`job ${job.id}`, async () => {
      const view = (await (await fetch(`${queued.url}/v1/queue/${job.id}`)).json()) as Record<string, any>;
      return view.status === "done" ? view : undefined;
    });
    const message = done.result.choices[0].message;
    assert.equal(done.result.choices[0].finish_reason, "tool_calls");
    assert.deepEqual(message.tool_calls.map((c: any) => [c.function.name, JSON.parse(c.function.arguments)]), [["get_weather", { city: "weather in Tunis" }]]);
    assert.deepEqual(sent(openaiCloud).tools, tools);
  } finally {
    await queued.stop("SIGKILL");
    await openaiCloud.goOnline().catch(() => undefined);
  }
});
