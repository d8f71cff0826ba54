/**
 * `npm run bench:surfaces`: what each API surface adds to time-to-first-token over chat completions on the same
 * request (the same conversation, greedy, streamed), interleaved round by round; and a Responses continuation by
 * `previous_response_id` against a one-turn request of the same new input.
 * `--model 140m` or `--model 500m` runs it on a synthetic model of realistic size (made once into .cache/).
 */
import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { request } from "undici";
import { z } from "zod";
import { barChart } from "./harness/barChart.js";
import { startBenchDaemon } from "./harness/daemon.js";
import { benchFlags } from "./harness/flags.js";
import { resultsPath } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { median, summarize, type Summary } from "./harness/stats.js";
import { syntheticModel } from "./harness/syntheticModels.js";
import { fixed, formatTable } from "./harness/table.js";

const Flags = z.object({
  model: z.string().default("edged-kjv:q4_k_m"),
  rounds: z.coerce.number().int().min(5).default(150),
  continuations: z.coerce.number().int().min(3).default(20),
  /** llama.cpp threads; edged measures them when absent. */
  threads: z.coerce.number().int().min(1).optional(),
  json: z.string().optional(),
});
type Flags = z.infer<typeof Flags>;
const progress = (m: string) => process.stderr.write(`bench surfaces: ${m}\n`);

/** One surface's streamed request for a user message, and how to tell its first generated text. */
interface SurfaceCase {
  name: string;
  path: string;
  framing: "sse" | "ndjson";
  body(model: string, content: string, tokens: number): object;
  isText(event: Record<string, any>): boolean;
}

const SURFACES: SurfaceCase[] = [
  {
    name: "OpenAI chat completions",
    path: "/v1/chat/completions",
    framing: "sse",
    body: (model, content, tokens) => ({ model, messages: [{ role: "user", content }], max_tokens: tokens, temperature: 0, stream: true }),
    isText: (e) => Boolean(e.choices?.[0]?.delta?.content),
  },
  {
    name: "OpenAI Responses",
    path: "/v1/responses",
    framing: "sse",
    body: (model, content, tokens) => ({ model, input: [{ role: "user", content }], max_output_tokens: tokens, temperature: 0, stream: true, store: false }),
    isText: (e) => e.type === "response.output_text.delta" && Boolean(e.delta),
  },
  {
    name: "Anthropic Messages",
    path: "/v1/messages",
    framing: "sse",
    body: (model, content, tokens) => ({ model, messages: [{ role: "user", content }], max_tokens: tokens, temperature: 0, stream: true }),
    isText: (e) => e.type === "content_block_delta" && Boolean(e.delta?.text),
  },
  {
    name: "Ollama chat",
    path: "/api/chat",
    framing: "ndjson",
    body: (model, content, tokens) => ({ model, messages: [{ role: "user", content }], stream: true, options: { num_predict: tokens, temperature: 0 } }),
    isText: (e) => Boolean(e.message?.content),
  },
  {
    name: "Ollama generate",
    path: "/api/generate",
    framing: "ndjson",
    body: (model, content, tokens) => ({ model, prompt: content, stream: true, options: { num_predict: tokens, temperature: 0 } }),
    isText: (e) => Boolean(e.response),
  },
];

/** Sends a streamed request and resolves with the milliseconds to its first generated text (the rest is read and dropped). */
async function firstTextMs(url: string, s: SurfaceCase, body: object): Promise<number> {
  const started = performance.now();
  const res = await request(`${url}${s.path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.statusCode !== 200) throw new Error(`${s.path}: ${res.statusCode} ${await res.body.text()}`);
  const separator = s.framing === "sse" ? "\n\n" : "\n";
  let buffer = "";
  let first = NaN;
  for await (const chunk of res.body) {
    if (!Number.isNaN(first)) continue;
    buffer += (chunk as Buffer).toString();
    let end;
    while (Number.isNaN(first) && (end = buffer.indexOf(separator)) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + separator.length);
      const data = s.framing === "sse" ? /^data: (.*)$/m.exec(frame)?.[1] : frame;
      if (!data || data === "[DONE]") continue;
      if (s.isText(JSON.parse(data) as Record<string, any>)) first = performance.now() - started;
    }
  }
  if (Number.isNaN(first)) throw new Error(`${s.path}: no text streamed`);
  return first;
}

interface SurfaceResult {
  surface: string;
  ttft: Summary;
  /** Median over rounds of (this surface's TTFT − chat's TTFT in the same round). */
  overheadP50Ms: number;
}

/** Every surface once per round, in an order that rotates, so drift and warm-up fall on all alike. */
async function overhead(url: string, model: string, flags: Flags): Promise<SurfaceResult[]> {
  const content = "Who was king after Saul, and where did he reign?";
  const times = SURFACES.map(() => [] as number[]);
  for (let round = -3; round < flags.rounds; round++) {
    const row: number[] = [];
    for (let k = 0; k < SURFACES.length; k++) {
      const i = (k + Math.max(round, 0)) % SURFACES.length;
      row[i] = await firstTextMs(url, SURFACES[i]!, SURFACES[i]!.body(model, content, 2));
    }
    if (round >= 0) row.forEach((ms, i) => times[i]!.push(ms)); // three warm-up rounds
  }
  const chat = times[0]!;
  return SURFACES.map((s, i) => ({ surface: s.name, ttft: summarize(times[i]!), overheadP50Ms: median(times[i]!.map((ms, r) => ms - chat[r]!)) }));
}

interface Continuation {
  oneTurn: Summary;
  continued: Summary;
  ratioP50: number;
  /** Prompt tokens of the continued turn, and how many of them were reused. */
  promptTokens: number;
  cachedTokens: number;
}

const LONG_TURN =
  "And it came to pass in those days, that there went out a decree from Caesar Augustus, that all the world should be taxed. And all went to be taxed, every one into his own city. And Joseph also went up from Galilee, out of the city of Nazareth, into Judaea, unto the city of David, which is called Bethlehem; because he was of the house and lineage of David.";

/** Turn two by previous_response_id against the same new input asked alone; each round's input is new, so neither is cached whole. */
async function continuation(url: string, model: string, flags: Flags): Promise<Continuation> {
  const responses = SURFACES[1]!;
  const oneTurn: number[] = [];
  const continued: number[] = [];
  let usage = { input_tokens: 0, input_tokens_details: { cached_tokens: 0 } };
  for (let round = -1; round < flags.continuations; round++) {
    const input = `Round ${round + 2}: and what did the shepherds see that night?`;
    const alone = await firstTextMs(url, responses, responses.body(model, input, 2));
    const first = await request(`${url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, input: `${round + 2}. ${LONG_TURN}`, max_output_tokens: 16, temperature: 0 }) });
    const { id } = (await first.body.json()) as { id: string };
    const next = await firstTextMs(url, responses, { ...responses.body(model, input, 2), previous_response_id: id, store: true });
    if (round < 0) continue; // a warm-up round
    oneTurn.push(alone);
    continued.push(next);
    const last = await request(`${url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, input, previous_response_id: id, max_output_tokens: 1, temperature: 0 }) });
    usage = ((await last.body.json()) as { usage: typeof usage }).usage;
  }
  const o = summarize(oneTurn);
  const c = summarize(continued);
  return { oneTurn: o, continued: c, ratioP50: c.p50 / o.p50, promptTokens: usage.input_tokens, cachedTokens: usage.input_tokens_details.cached_tokens };
}

export async function runSurfacesBench(argv: string[]): Promise<void> {
  const flags = benchFlags("surfaces", argv, Flags);
  if (!flags) return;
  const synthetic = flags.model === "140m" || flags.model === "500m";
  const served = synthetic ? await syntheticModel(flags.model as "140m" | "500m", "Q4_K_M", progress) : flags.model;
  const name = synthetic ? `surfaces-${flags.model}` : "surfaces";
  const json = flags.json ?? resultsPath(name, "json");
  const d = await startBenchDaemon(["--model", served, ...(flags.threads ? ["--threads", String(flags.threads)] : [])]);
  const model = d.models[0]!;
  let surfaces: SurfaceResult[];
  let cont: Continuation;
  try {
    progress(`TTFT of each surface, ${flags.rounds} interleaved rounds`);
    surfaces = await overhead(d.url, model, flags);
    progress(`previous_response_id continuations, ${flags.continuations} rounds`);
    cont = await continuation(d.url, model, flags);
  } finally {
    await d.stop();
  }
  await writeJson(json, { ...reportHeader("surfaces"), model, settings: { ...flags, json: undefined }, surfaces, continuation: cont });
  const svg = resultsPath(name, "svg");
  await writeFile(
    svg,
    barChart({
      title: "TTFT p50 added by each API surface over chat completions",
      subtitle: `${model}, same conversation, streamed, ${flags.rounds} interleaved rounds`,
      yLabel: "ms over chat completions (median of paired differences)",
      series: ["overhead ms"],
      groups: surfaces.slice(1).map((s) => ({ label: s.surface, values: [Math.max(0, s.overheadP50Ms)] })),
      reference: { value: 0.2, label: "target 0.2 ms" },
    }),
  );
  console.log(`\nTTFT by surface on ${model} (streamed, greedy, 2 tokens; ${flags.rounds} interleaved rounds)\n`);
  console.log(
    formatTable(
      [
        { header: "surface", value: (r: SurfaceResult) => r.surface, align: "left" },
        { header: "TTFT p50 ms", value: (r) => fixed(r.ttft.p50, 2) },
        { header: "TTFT p99 ms", value: (r) => fixed(r.ttft.p99, 2) },
        { header: "over chat, p50 of paired diffs ms", value: (r) => fixed(r.overheadP50Ms, 3) },
      ],
      surfaces,
    ),
  );
  console.log(`\nResponses continuation (previous_response_id after a ~90-token turn) vs the same new input alone, ${flags.continuations} rounds\n`);
  console.log(
    formatTable(
      [
        { header: "request", value: (r: { name: string; s: Summary }) => r.name, align: "left" },
        { header: "TTFT p50 ms", value: (r) => fixed(r.s.p50, 2) },
        { header: "TTFT p99 ms", value: (r) => fixed(r.s.p99, 2) },
      ],
      [
        { name: "one turn, new input alone", s: cont.oneTurn },
        { name: "turn two by previous_response_id", s: cont.continued },
      ],
    ),
  );
  console.log(`\ncontinuation / one turn, p50: ${fixed(cont.ratioP50, 2)}x (target <= 1.2x); the continued prompt held ${cont.promptTokens} tokens, ${cont.cachedTokens} of them reused`);
  console.log(`\nJSON: ${json}\nchart: ${svg}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runSurfacesBench(process.argv.slice(2));
