/**
 * `npm run bench:tools`: tool calling on the device. (1) Validity: sampled requests at temperature 1 across several
 * functions and every tool_choice; each returned call must parse and validate against its schema. (2) TTFT with 8
 * tools offered against none and against a system prompt as long as the tools' account (the control for a longer
 * prompt), the same tools on every request (their tokens come from the prefix cache). (3) Time to
 * the first streamed argument fragment against a plain answer's TTFT. `--model 140m` on the synthetic model (its
 * 4096-token context holds 8 tools; the bundled model's 512 do not, so it gets the validity run and 2 tools).
 */
import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { request } from "undici";
import { z } from "zod";
import { validatorFor } from "../src/engines/llama/grammar/schemaValidator.js";
import { barChart } from "../src/report/barChart.js";
import { startBenchDaemon } from "./harness/daemon.js";
import { benchFlags } from "./harness/flags.js";
import { resultsPath } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { summarize, type Summary } from "./harness/stats.js";
import { benchModel } from "./harness/syntheticModels.js";
import { fixed, formatTable } from "../src/report/table.js";

const Flags = z.object({
  model: z.string().default("edged-kjv:q4_k_m"),
  requests: z.coerce.number().int().min(10).default(500),
  rounds: z.coerce.number().int().min(5).default(30),
  threads: z.coerce.number().int().min(1).optional(),
  json: z.string().optional(),
});
type Flags = z.infer<typeof Flags>;
const progress = (m: string) => process.stderr.write(`bench tools: ${m}\n`);

const FUNCTIONS = [
  { name: "find_verse", parameters: { type: "object", properties: { book: { enum: ["Genesis", "Exodus", "Ruth", "Psalms"] }, chapter: { type: "integer", minimum: 1, maximum: 150 } }, required: ["book", "chapter"], additionalProperties: false } },
  { name: "set_reminder", parameters: { type: "object", properties: { text: { type: "string", maxLength: 24 }, minutes: { type: "integer", minimum: 1, maximum: 600 }, urgent: { type: "boolean" } }, required: ["text", "minutes"], additionalProperties: false } },
  { name: "send_names", parameters: { type: "object", properties: { names: { type: "array", items: { type: "string", maxLength: 12 }, minItems: 1, maxItems: 3 } }, required: ["names"], additionalProperties: false } },
  { name: "weigh", parameters: { type: "object", properties: { item: { type: "object", properties: { kind: { enum: ["grain", "oil", "wine"] }, measures: { type: "number" } }, required: ["kind"], additionalProperties: false } }, required: ["item"], additionalProperties: false } },
  { name: "read_psalm", parameters: { type: "object", properties: { number: { type: "integer", minimum: 1, maximum: 150 } }, required: ["number"], additionalProperties: false } },
  { name: "count_days", parameters: { type: "object", properties: { from: { type: "string", format: "date" }, to: { type: "string", format: "date" } }, required: ["from", "to"], additionalProperties: false } },
  { name: "greet", parameters: { type: "object", properties: { name: { type: "string", maxLength: 16 } }, required: ["name"], additionalProperties: false } },
  { name: "list_books", parameters: { type: "object", properties: {}, additionalProperties: false } },
];
const asTools = (fns: typeof FUNCTIONS) => fns.map((f) => ({ type: "function", function: f }));
const validators = new Map(FUNCTIONS.map((f) => [f.name, validatorFor(f.parameters)]));
const QUESTIONS = ["Read me the first chapter of Ruth", "Remind me to pray in an hour", "Who went up from Galilee?", "Weigh the grain of Joseph", "Greet the shepherds", "How many days until the feast?"];

async function post(url: string, body: object) {
  const res = await request(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${await res.body.text()}`);
  return res;
}

interface Validity {
  requests: number;
  /** Answers edged refused with 500 schema_violation: the grammar let through what the check then caught. */
  refused: string[];
  answersWithCalls: number;
  calls: number;
  valid: number;
  invalid: string[];
}

/** Sampled requests at temperature 1, rotating tool_choice, each returned call checked by its own validator. */
async function validity(url: string, model: string, fns: typeof FUNCTIONS, flags: Flags): Promise<Validity> {
  const choices = ["required", "auto", ...fns.map((f) => ({ type: "function", function: { name: f.name } }))];
  const v: Validity = { requests: 0, refused: [], answersWithCalls: 0, calls: 0, valid: 0, invalid: [] };
  for (let i = 0; i < flags.requests; i++) {
    const body = { model, messages: [{ role: "user", content: QUESTIONS[i % QUESTIONS.length] }], tools: asTools(fns), tool_choice: choices[i % choices.length], max_tokens: 160, temperature: 1, seed: i + 1 };
    const res = await request(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    v.requests++;
    if (res.statusCode === 500) {
      v.refused.push(((await res.body.json()) as { error: { message: string } }).error.message);
      continue;
    }
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${await res.body.text()}`);
    const answer = (await res.body.json()) as { choices: { message: { tool_calls?: { function: { name: string; arguments: string } }[] } }[] };
    const calls = answer.choices[0]!.message.tool_calls ?? [];
    if (calls.length) v.answersWithCalls++;
    for (const c of calls) {
      v.calls++;
      const validate = validators.get(c.function.name);
      const wrong = validate ? validate(c.function.arguments) : `unknown tool ${c.function.name}`;
      if (wrong === undefined) v.valid++;
      else v.invalid.push(`${c.function.name}: ${wrong}`);
    }
    if ((i + 1) % 100 === 0) progress(`${i + 1} of ${flags.requests}`);
  }
  return v;
}

/** Streams one request; resolves with the ms to its first content or call chunk, and to its first argument fragment. */
async function streamed(url: string, body: object): Promise<{ firstMs: number; firstArgumentMs: number }> {
  const started = performance.now();
  const res = await post(url, { ...body, stream: true });
  let buffer = "";
  let firstMs = NaN;
  let firstArgumentMs = NaN;
  for await (const chunk of res.body) {
    buffer += (chunk as Buffer).toString();
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const data = buffer.slice(6, end);
      buffer = buffer.slice(end + 2);
      if (data === "[DONE]") continue;
      const delta = (JSON.parse(data) as { choices: { delta: { content?: string; tool_calls?: { function?: { arguments?: string } }[] } }[] }).choices[0]?.delta;
      const now = performance.now() - started;
      if (Number.isNaN(firstMs) && (delta?.content || delta?.tool_calls)) firstMs = now;
      if (Number.isNaN(firstArgumentMs) && delta?.tool_calls?.[0]?.function?.arguments) firstArgumentMs = now;
    }
  }
  return { firstMs, firstArgumentMs };
}

/** The prompt tokens of a request, from its usage. */
async function promptTokens(url: string, body: object): Promise<number> {
  const res = await post(url, { ...body, max_tokens: 1 });
  return ((await res.body.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
}

const FILLER = "And the LORD spake unto Moses, saying, ";

/**
 * A system prompt that makes a request without tools as long as one with them: the control that tells the tools'
 * own cost from that of a longer prompt (every token after it attends over the whole prompt).
 */
async function sameLengthSystem(url: string, model: string, fns: typeof FUNCTIONS): Promise<{ system: string; toolsPrompt: number; controlPrompt: number }> {
  const messages = [{ role: "user", content: QUESTIONS[0] }];
  const toolsPrompt = await promptTokens(url, { model, messages, tools: asTools(fns) });
  const plainPrompt = await promptTokens(url, { model, messages });
  const unit = (await promptTokens(url, { model, messages: [{ role: "system", content: FILLER.repeat(20) }, ...messages] })) - plainPrompt;
  const system = FILLER.repeat(Math.max(1, Math.round((20 * (toolsPrompt - plainPrompt)) / unit)));
  return { system, toolsPrompt, controlPrompt: await promptTokens(url, { model, messages: [{ role: "system", content: system }, ...messages] }) };
}

interface Latency {
  plain: Summary;
  /** No tools, a system prompt as long as the tools' account. */
  samePrompt: Summary;
  prompts: { tools: number; control: number };
  withTools: Summary;
  toolsRatioP50: number;
  /** With tools against the same-length prompt without them: the tools' own cost. */
  toolsOverSamePromptP50: number;
  firstArgument: Summary;
  firstArgumentOverPlainP50Ms: number;
}

/** Interleaved rounds: no tools, the same tools (auto), and a required call; each round's question is new. */
async function latency(url: string, model: string, fns: typeof FUNCTIONS, flags: Flags): Promise<Latency> {
  const plain: number[] = [];
  const samePrompt: number[] = [];
  const withTools: number[] = [];
  const firstArgument: number[] = [];
  const control = await sameLengthSystem(url, model, fns);
  for (let round = -2; round < flags.rounds; round++) {
    const content = `${round + 3}. ${QUESTIONS[(round + 3) % QUESTIONS.length]}`;
    const base = { model, messages: [{ role: "user", content }], max_tokens: 24, temperature: 0 };
    const a = await streamed(url, base);
    const s = await streamed(url, { ...base, messages: [{ role: "system", content: control.system }, ...base.messages] });
    const b = await streamed(url, { ...base, tools: asTools(fns) });
    const c = await streamed(url, { ...base, max_tokens: 60, tools: asTools(fns), tool_choice: "required" });
    if (round < 0) continue; // warm-up rounds: the first puts the tools into the prefix cache
    plain.push(a.firstMs);
    samePrompt.push(s.firstMs);
    withTools.push(b.firstMs);
    if (!Number.isNaN(c.firstArgumentMs)) firstArgument.push(c.firstArgumentMs);
  }
  const p = summarize(plain);
  const same = summarize(samePrompt);
  const t = summarize(withTools);
  const f = summarize(firstArgument);
  return {
    plain: p,
    samePrompt: same,
    prompts: { tools: control.toolsPrompt, control: control.controlPrompt },
    withTools: t,
    toolsRatioP50: t.p50 / p.p50,
    toolsOverSamePromptP50: t.p50 / same.p50,
    firstArgument: f,
    firstArgumentOverPlainP50Ms: f.p50 - p.p50,
  };
}

export async function runToolsBench(argv: string[]): Promise<void> {
  const flags = benchFlags("tools", argv, Flags);
  if (!flags) return;
  const { served, synthetic, results } = await benchModel(flags.model, progress);
  const name = results("tools");
  const json = flags.json ?? resultsPath(name, "json");
  // the bundled model's 512-token context holds the template's account of two tools, not eight
  const fns = synthetic ? FUNCTIONS : [FUNCTIONS[0]!, FUNCTIONS[4]!];
  const d = await startBenchDaemon(["--model", served, ...(flags.threads ? ["--threads", String(flags.threads)] : [])]);
  const model = d.models[0]!;
  let valid: Validity;
  let lat: Latency;
  try {
    progress(`${flags.requests} sampled requests with ${fns.length} tools at temperature 1`);
    valid = await validity(d.url, model, fns, flags);
    progress(`TTFT without and with ${fns.length} tools, first argument fragment; ${flags.rounds} rounds`);
    lat = await latency(d.url, model, fns, flags);
  } finally {
    await d.stop();
  }
  await writeJson(json, { ...reportHeader("tools"), model, tools: fns.length, settings: { ...flags, json: undefined }, validity: valid, latency: lat });
  const svg = json.replace(/\.json$/, "") + ".svg";
  await writeFile(
    svg,
    barChart({
      title: "Tool calling on the device: time to first output",
      subtitle: `${model}, ${fns.length} tools, streamed, ${flags.rounds} rounds`,
      yLabel: "ms, p50",
      series: ["p50 ms"],
      groups: [
        { label: "no tools", values: [lat.plain.p50] },
        { label: "no tools, same-length prompt", values: [lat.samePrompt.p50] },
        { label: `${fns.length} tools (auto)`, values: [lat.withTools.p50] },
        { label: "first argument fragment", values: [lat.firstArgument.p50] },
      ],
    }),
  );
  console.log(`\ntool calls on ${model}: ${valid.requests} requests at temperature 1, ${fns.length} tools, every tool_choice in turn\n`);
  console.log(`answers with calls ${valid.answersWithCalls}, calls ${valid.calls}, valid ${valid.valid} (${fixed((100 * valid.valid) / Math.max(1, valid.calls), 1)} %)${valid.invalid.length ? `; invalid: ${valid.invalid.slice(0, 5).join("; ")}` : ""}`);
  console.log(`refused by the check after the grammar (500 schema_violation): ${valid.refused.length}${valid.refused.length ? ` (${valid.refused[0]})` : ""}\n`);
  const rows = [
    { name: "no tools: first token", s: lat.plain },
    { name: `no tools, ${lat.prompts.control}-token prompt: first token`, s: lat.samePrompt },
    { name: `${fns.length} tools (${lat.prompts.tools}-token prompt), auto: first output`, s: lat.withTools },
    { name: "required: first argument fragment", s: lat.firstArgument },
  ];
  console.log(
    formatTable(
      [
        { header: "request", value: (r: (typeof rows)[number]) => r.name, align: "left" },
        { header: "p50 ms", value: (r) => fixed(r.s.p50, 2) },
        { header: "p99 ms", value: (r) => fixed(r.s.p99, 2) },
      ],
      rows,
    ),
  );
  console.log(`\nwith tools / without, p50: ${fixed(lat.toolsRatioP50, 2)}x (target <= 1.2x); with tools / a prompt as long without them: ${fixed(lat.toolsOverSamePromptP50, 2)}x; first argument fragment - plain TTFT, p50: ${fixed(lat.firstArgumentOverPlainP50Ms, 1)} ms (target <= 5 ms)`);
  console.log(`\nJSON: ${json}\nchart: ${svg}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runToolsBench(process.argv.slice(2));
