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
import { barChart } from "../src/report/barChart.js";
import { startBenchDaemon } from "./harness/daemon.js";
import { benchFlags } from "./harness/flags.js";
import { resultsPath } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { median, summarize, type Summary } from "./harness/stats.js";
import { benchModel } from "./harness/syntheticModels.js";
import { fixed, formatTable } from "../src/report/table.js";

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

/** Sends a streamed request; resolves with the milliseconds to its first generated text and the stream's last event. */
async function firstText(url: string, s: SurfaceCase, body: object): Promise<{ ms: number; last: Record<string, any> }> {
  const started = performance.now();
  const res = await request(`${url}${s.path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.statusCode !== 200) throw new Error(`${s.path}: ${res.statusCode} ${await res.body.text()}`);
  const separator = s.framing === "sse" ? "\n\n" : "\n";
  let buffer = "";
  let ms = NaN;
  let last: Record<string, any> = {};
  for await (const chunk of res.body) {
    buffer += (chunk as Buffer).toString();
    let end;
    while ((end = buffer.indexOf(separator)) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + separator.length);
      const data = s.framing === "sse" ? /^data: (.*)$/m.exec(frame)?.[1] : frame;
      if (!data || data === "[DONE]") continue;
      last = JSON.parse(data) as Record<string, any>;
      if (Number.isNaN(ms) && s.isText(last)) ms = performance.now() - started;
    }
  }
  if (Number.isNaN(ms)) throw new Error(`${s.path}: no text streamed`);
  return { ms, last };
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
      row[i] = (await firstText(url, SURFACES[i]!, SURFACES[i]!.body(model, content, 2))).ms;
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
  /** Per measured request, medians: prompt tokens, and of them those whose evaluated state was reused. */
  oneTurnTokens: { prompt: number; reused: number };
  continuedTokens: { prompt: number; reused: number };
}

const FIRST_TURN =
  "And it came to pass in those days, that there went out a decree from Caesar Augustus, that all the world should be taxed. And all went to be taxed, every one into his own city. And Joseph also went up from Galilee, out of the city of Nazareth, into Judaea, unto the city of David, which is called Bethlehem; because he was of the house and lineage of David.";
const NEW_INPUT =
  "and what did the shepherds see that night, abiding in the field and keeping watch over their flock, when the angel of the Lord came upon them and the glory of the Lord shone round about them? Tell it as the scripture tells it, and say what the angel said unto them.";

/** Turn two by previous_response_id against the same new input asked alone; each round's input is new, so neither is cached whole. */
async function continuation(url: string, model: string, flags: Flags): Promise<Continuation> {
  const responses = SURFACES[1]!;
  const oneTurn: number[] = [];
  const continued: number[] = [];
  const tokens = { oneTurn: [] as { prompt: number; reused: number }[], continued: [] as { prompt: number; reused: number }[] };
  const usage = (last: Record<string, any>) => ({ prompt: last.response.usage.input_tokens as number, reused: last.response.usage.input_tokens_details.cached_tokens as number });
  for (let round = -1; round < flags.continuations; round++) {
    const input = `Round ${round + 2}: ${NEW_INPUT}`;
    const alone = await firstText(url, responses, responses.body(model, input, 2));
    const first = await request(`${url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, input: `${round + 2}. ${FIRST_TURN}`, max_output_tokens: 16, temperature: 0 }) });
    const { id } = (await first.body.json()) as { id: string };
    const next = await firstText(url, responses, { ...responses.body(model, input, 2), previous_response_id: id, store: true });
    if (round < 0) continue; // a warm-up round
    oneTurn.push(alone.ms);
    continued.push(next.ms);
    tokens.oneTurn.push(usage(alone.last));
    tokens.continued.push(usage(next.last));
  }
  const o = summarize(oneTurn);
  const c = summarize(continued);
  const medians = (list: { prompt: number; reused: number }[]) => ({ prompt: median(list.map((t) => t.prompt)), reused: median(list.map((t) => t.reused)) });
  return { oneTurn: o, continued: c, ratioP50: c.p50 / o.p50, oneTurnTokens: medians(tokens.oneTurn), continuedTokens: medians(tokens.continued) };
}

export async function runSurfacesBench(argv: string[]): Promise<void> {
  const flags = benchFlags("surfaces", argv, Flags);
  if (!flags) return;
  const { served, results } = await benchModel(flags.model, progress);
  const name = results("surfaces");
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
  const rows = [
    { name: "one turn, new input alone", s: cont.oneTurn, t: cont.oneTurnTokens },
    { name: "turn two by previous_response_id", s: cont.continued, t: cont.continuedTokens },
  ];
  console.log(
    formatTable(
      [
        { header: "request", value: (r: (typeof rows)[number]) => r.name, align: "left" },
        { header: "TTFT p50 ms", value: (r) => fixed(r.s.p50, 2) },
        { header: "TTFT p99 ms", value: (r) => fixed(r.s.p99, 2) },
        { header: "prompt tokens", value: (r) => fixed(r.t.prompt, 0) },
        { header: "reused", value: (r) => fixed(r.t.reused, 0) },
        { header: "evaluated", value: (r) => fixed(r.t.prompt - r.t.reused, 0) },
      ],
      rows,
    ),
  );
  console.log(`\ncontinuation / one turn, p50: ${fixed(cont.ratioP50, 2)}x (target <= 1.2x)`);
  console.log(`\nJSON: ${json}\nchart: ${svg}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runSurfacesBench(process.argv.slice(2));
