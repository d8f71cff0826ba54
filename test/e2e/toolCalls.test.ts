/**
 * Tool calling on the device through every surface (OpenAI chat and Responses, Anthropic Messages, Ollama chat),
 * driven by the official clients: every
 * tool_choice, calls constrained by a grammar to the offered names and each function's schema, arguments streamed in
 * fragments, history with tool calls and results, and bad definitions refused naming the parameter.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI, { APIError } from "openai";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { validatorFor } from "../../src/engines/llama/grammar/schemaValidator.js";

const MODEL = "edged-kjv:q4_k_m";
let daemon: RunningDaemon;
let client: OpenAI;

const verse = { type: "object", properties: { book: { enum: ["Genesis", "Exodus", "Ruth"] }, chapter: { type: "integer", minimum: 1, maximum: 50 } }, required: ["book", "chapter"], additionalProperties: false };
const psalm = { type: "object", properties: { number: { type: "integer", minimum: 1, maximum: 150 } }, required: ["number"], additionalProperties: false };
// no descriptions: the template's account of the tools already fills most of the bundled model's 512-token context
const tools: OpenAI.ChatCompletionTool[] = [
  { type: "function", function: { name: "find_verse", parameters: verse } },
  { type: "function", function: { name: "read_psalm", parameters: psalm } },
];
const check = { find_verse: validatorFor(verse), read_psalm: validatorFor(psalm) } as Record<string, (text: string) => string | undefined>;
const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Read me the first chapter of Ruth" }];

before(async () => {
  daemon = await startDaemon();
  client = new OpenAI({ baseURL: daemon.baseURL, apiKey: "unused", maxRetries: 0 });
});
after(async () => {
  await daemon.stop();
});

const functionCalls = (m: OpenAI.ChatCompletionMessage) => (m.tool_calls ?? []).map((c) => (c as OpenAI.ChatCompletionMessageFunctionToolCall));

test('tool_choice "required": every answer is a call to an offered tool whose arguments validate (12 seeds, temperature 1)', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    // one call per answer for half the seeds; up to 8 parallel calls for the rest, which may run into max_tokens
    const parallel = seed > 6;
    const r = await client.chat.completions.create({ model: MODEL, messages, tools, tool_choice: "required", parallel_tool_calls: parallel, max_tokens: 400, temperature: 1, seed });
    const choice = r.choices[0]!;
    if (!parallel) assert.equal(choice.finish_reason, "tool_calls", `seed ${seed}`);
    assert.equal(choice.message.content, null);
    const calls = functionCalls(choice.message);
    assert.ok(calls.length >= 1 && calls.length <= 8, `seed ${seed}: ${calls.length} calls`);
    if (!parallel) assert.equal(calls.length, 1);
    for (const call of calls) {
      assert.match(call.id, /^call_/);
      assert.ok(call.function.name in check, call.function.name);
      assert.equal(check[call.function.name]!(call.function.arguments), undefined, call.function.arguments);
    }
  }
});

test("a named function is the one called; parallel_tool_calls false makes one call; none answers in text", async () => {
  const named = await client.chat.completions.create({ model: MODEL, messages, tools, tool_choice: { type: "function", function: { name: "read_psalm" } }, parallel_tool_calls: false, max_tokens: 200, temperature: 0 });
  const calls = functionCalls(named.choices[0]!.message);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.function.name, "read_psalm");
  assert.equal(check.read_psalm!(calls[0]!.function.arguments), undefined);

  const none = await client.chat.completions.create({ model: MODEL, messages, tools, tool_choice: "none", max_tokens: 16 });
  assert.equal(none.choices[0]!.message.tool_calls, undefined);
  assert.ok(["stop", "length"].includes(none.choices[0]!.finish_reason));
  assert.ok(!none.choices[0]!.message.content!.includes("||call"), "no call syntax leaks into content");
});

test('"auto" (the default with tools): either text without any call syntax, or calls that validate', async () => {
  for (let seed = 1; seed <= 6; seed++) {
    const r = await client.chat.completions.create({ model: MODEL, messages, tools, max_tokens: 120, temperature: 1, seed });
    const m = r.choices[0]!.message;
    assert.ok(!(m.content ?? "").includes("||call"), "call syntax never reaches content");
    for (const call of functionCalls(m)) assert.equal(check[call.function.name]!(call.function.arguments), undefined);
    if (m.tool_calls?.length) assert.equal(r.choices[0]!.finish_reason, "tool_calls");
  }
});

test("streaming sends each call's id and name first, then its arguments in fragments that join into valid JSON", async () => {
  const stream = await client.chat.completions.create({ model: MODEL, messages, tools, tool_choice: "required", parallel_tool_calls: false, max_tokens: 200, temperature: 0, stream: true });
  const calls: { id?: string; name?: string; arguments: string; fragments: number }[] = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
      const call = (calls[d.index] ??= { arguments: "", fragments: 0 });
      if (d.id) {
        assert.equal(call.id, undefined, "the id comes once");
        call.id = d.id;
        call.name = d.function!.name;
      } else {
        assert.ok(call.id, "arguments come after the call's head");
        call.arguments += d.function!.arguments ?? "";
        call.fragments++;
      }
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, "tool_calls");
  assert.ok(calls.length >= 1);
  for (const call of calls) {
    assert.ok(call.fragments > 1, `arguments streamed in ${call.fragments} fragments`);
    assert.equal(check[call.name!]!(call.arguments), undefined, call.arguments);
  }
});

test("a history with tool calls and their results is answered (content null on the assistant turn)", async () => {
  const r = await client.chat.completions.create({
    model: MODEL,
    tools,
    max_tokens: 12,
    tool_choice: "none",
    messages: [
      ...messages,
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "find_verse", arguments: '{"book": "Ruth", "chapter": 1}' } }] },
      { role: "tool", tool_call_id: "call_1", content: "Whither thou goest, I will go" },
    ],
  });
  assert.equal(r.choices[0]!.message.role, "assistant");
  assert.ok(r.usage!.prompt_tokens > 30, "the call and its result are in the prompt");
});

test("bad tool definitions and choices are 400 naming the parameter", async () => {
  const bad = async (body: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>, param: string) =>
    assert.rejects(client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, ...body }), (e: APIError) => e.status === 400 && e.param === param, param);
  await bad({ tools: [{ type: "function", function: { name: "has space", parameters: psalm } }] }, "tools.0.function.name");
  await bad({ tools: [tools[0]!, tools[0]!] }, "tools.1.function.name");
  await bad({ tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string", pattern: "^a" } } } } }] }, "tools.0.function.parameters");
  await bad({ tools, tool_choice: { type: "function", function: { name: "not_offered" } } }, "tool_choice");
  await bad({ tool_choice: "required" }, "tool_choice");
  await bad({ tools, response_format: { type: "json_object" } }, "response_format");
});

test("Anthropic Messages: tool_choice any gives tool_use blocks; a stream sends input_json_delta; a tool_result round trip is answered", async () => {
  const anthropic = new Anthropic({ baseURL: daemon.url, apiKey: "unused", maxRetries: 0 });
  const anthropicTools = [
    { name: "find_verse", input_schema: verse as Anthropic.Tool.InputSchema },
    { name: "read_psalm", input_schema: psalm as Anthropic.Tool.InputSchema },
  ];
  // greedy (a sampling field this SDK no longer types), so each answer is the same on every run
  const any = { model: MODEL, max_tokens: 200, temperature: 0, tools: anthropicTools, tool_choice: { type: "any" as const, disable_parallel_tool_use: true }, messages: [{ role: "user" as const, content: "Read me the first chapter of Ruth" }] };
  const m = await anthropic.messages.create(any);
  assert.equal(m.stop_reason, "tool_use");
  const uses = m.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
  assert.equal(uses.length, 1);
  assert.equal(check[uses[0]!.name]!(JSON.stringify(uses[0]!.input)), undefined);

  const named = { model: MODEL, max_tokens: 200, temperature: 0, tools: anthropicTools, tool_choice: { type: "tool" as const, name: "find_verse" }, messages: [{ role: "user" as const, content: "Ruth" }] };
  const stream = anthropic.messages.stream(named);
  let partial = "";
  let started = false;
  for await (const event of stream) {
    if (event.type === "content_block_start" && event.content_block.type === "tool_use") started = true;
    if (event.type === "content_block_delta" && event.delta.type === "input_json_delta") partial += event.delta.partial_json;
  }
  const final = await stream.finalMessage();
  assert.ok(started);
  const use = final.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use")!;
  assert.equal(use.name, "find_verse");
  assert.deepEqual(use.input, JSON.parse(partial));
  assert.equal(final.stop_reason, "tool_use");

  const after = await anthropic.messages.create({
    model: MODEL,
    max_tokens: 8,
    tools: anthropicTools,
    tool_choice: { type: "none" },
    messages: [
      { role: "user", content: "Ruth" },
      { role: "assistant", content: [{ type: "tool_use", id: use.id, name: use.name, input: use.input }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "Whither thou goest, I will go" }] },
    ],
  });
  assert.ok(["end_turn", "max_tokens"].includes(after.stop_reason!));
  assert.ok(!after.content.some((b) => b.type === "tool_use"));
});

test("Responses: function_call output items, argument delta events, and a function_call_output continuing the conversation", async () => {
  const responseTools: OpenAI.Responses.FunctionTool[] = [
    { type: "function", name: "find_verse", parameters: verse, strict: true },
    { type: "function", name: "read_psalm", parameters: psalm, strict: true },
  ];
  const r = await client.responses.create({ model: MODEL, input: "Read me the first chapter of Ruth", tools: responseTools, tool_choice: "required", parallel_tool_calls: false, max_output_tokens: 200, temperature: 0 });
  const calls = r.output.filter((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === "function_call");
  assert.equal(calls.length, 1);
  assert.equal(check[calls[0]!.name]!(calls[0]!.arguments), undefined);

  const stream = client.responses.stream({ model: MODEL, input: "Ruth", tools: responseTools, tool_choice: { type: "function", name: "read_psalm" }, max_output_tokens: 200, parallel_tool_calls: false, temperature: 0 });
  let deltas = "";
  let doneArguments = "";
  for await (const event of stream) {
    if (event.type === "response.function_call_arguments.delta") deltas += event.delta;
    if (event.type === "response.function_call_arguments.done") doneArguments = event.arguments;
  }
  const final = await stream.finalResponse();
  assert.equal(deltas, doneArguments);
  const call = final.output.find((o) => o.type === "function_call") as OpenAI.Responses.ResponseFunctionToolCall;
  assert.equal(call.name, "read_psalm");
  assert.equal(call.arguments, doneArguments);

  const next = await client.responses.create({ model: MODEL, previous_response_id: r.id, input: [{ type: "function_call_output", call_id: calls[0]!.call_id, output: "Whither thou goest" }], tools: responseTools, tool_choice: "none", max_output_tokens: 8 });
  assert.equal(next.status === "completed" || next.status === "incomplete", true);
  assert.ok(!next.output.some((o) => o.type === "function_call"));
});

test("Ollama chat: tools with calls whose arguments are objects, and tool results matched by tool_name", async () => {
  const ollama = new Ollama({ host: daemon.url });
  for (let seed = 1; seed <= 4; seed++) {
    // the same definitions: Ollama's are OpenAI's shape, typed more narrowly by its client
    const r = await ollama.chat({ model: MODEL, messages: [{ role: "user", content: "Read me the first chapter of Ruth" }], tools: tools as never, options: { num_predict: 120, seed, temperature: 1 } });
    assert.ok(!r.message.content.includes("||call"));
    for (const call of r.message.tool_calls ?? []) assert.equal(check[call.function.name]!(JSON.stringify(call.function.arguments)), undefined);
  }
  const round = await ollama.chat({
    model: MODEL,
    options: { num_predict: 8 },
    messages: [
      { role: "user", content: "Read me the first chapter of Ruth" },
      { role: "assistant", content: "", tool_calls: [{ function: { name: "find_verse", arguments: { book: "Ruth", chapter: 1 } } }] },
      { role: "tool", content: "Whither thou goest, I will go", tool_name: "find_verse" },
    ],
  });
  assert.equal(round.done, true);
  assert.ok(round.prompt_eval_count > 20);
});

test("tool permissions: a key's tools it may not offer are removed and named; calls are logged by size and counted by tool", async () => {
  const config = join(scratchDir(), "edged.json");
  await writeFile(config, JSON.stringify({ security: { apiKeys: ["sk-admin-key-1", "sk-reader-key-1"], tools: { policy: "remove", allow: { "sk-admin-key-1": ["*"], "sk-reader-key-1": ["read_psalm"] } } } }));
  const guarded = await startDaemon({ args: ["--config", config] });
  try {
    const reader = new OpenAI({ baseURL: guarded.baseURL, apiKey: "sk-reader-key-1", maxRetries: 0 });
    const r = await reader.chat.completions.create({ model: MODEL, messages, tools, tool_choice: "required", parallel_tool_calls: false, max_tokens: 200, temperature: 0 }).withResponse();
    assert.equal(r.response.headers.get("x-edged-tools-removed"), "find_verse");
    assert.deepEqual(functionCalls(r.data.choices[0]!.message).map((c) => c.function.name), ["read_psalm"]);
    const admin = new OpenAI({ baseURL: guarded.baseURL, apiKey: "sk-admin-key-1", maxRetries: 0 });
    const a = await admin.chat.completions.create({ model: MODEL, messages, tools, tool_choice: { type: "function", function: { name: "find_verse" } }, parallel_tool_calls: false, max_tokens: 200, temperature: 0 }).withResponse();
    assert.equal(a.response.headers.get("x-edged-tools-removed"), null);
    const call = functionCalls(a.data.choices[0]!.message)[0]!;
    assert.equal(call.function.name, "find_verse");
    await assert.rejects(reader.chat.completions.create({ model: MODEL, messages, tools, tool_choice: { type: "function", function: { name: "find_verse" } } }), (e: APIError) => e.status === 400 && e.param === "tool_choice");

    const lines = guarded.output().split("\n").filter((l) => l.includes('"event":"tool_call"'));
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, new RegExp(`"tool":"find_verse".*"route":"local","arguments_bytes":${Buffer.byteLength(call.function.arguments)}`));
    assert.ok(!guarded.output().includes(call.function.arguments), "the arguments' text is not logged");
    const metrics = await (await fetch(`${guarded.url}/metrics`, { headers: { authorization: "Bearer sk-admin-key-1" } })).text();
    assert.match(metrics, /edged_tool_calls_total\{tool="find_verse",route="local"\} 1/);
    assert.match(metrics, /edged_tool_calls_total\{tool="read_psalm",route="local"\} 1/);
  } finally {
    await guarded.stop();
  }
});
