/**
 * `npm run bench:scheduler`: interactive requests alone, then beside long batch requests without and with
 * priorities; then a shared ~500-token system prompt with and without prefix reuse; then how fast a request
 * whose deadline cannot be met is refused. One run, one table per part, JSON in benchmarks/results/.
 * `--model 140m` or `--model 500m` runs it on a synthetic model of realistic size (made once into .cache/).
 */
import { pathToFileURL } from "node:url";
import { request } from "undici";
import { z } from "zod";
import { benchFlags } from "./harness/flags.js";
import { startBenchDaemon, type BenchDaemon } from "./harness/daemon.js";
import { resultsPath } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { summarize, type Summary } from "./harness/stats.js";
import { benchModel } from "./harness/syntheticModels.js";
import { streamCompletion } from "./harness/streamClient.js";
import { fixed, formatTable } from "../src/report/table.js";

const Flags = z.object({
  model: z.string().default("edged-kjv:q4_k_m"),
  interactive: z.coerce.number().int().min(5).default(40),
  "batch-clients": z.coerce.number().int().min(1).default(4),
  "batch-tokens": z.coerce.number().int().min(16).default(192),
  "prefix-requests": z.coerce.number().int().min(5).default(30),
  /** llama.cpp threads; edged measures them when absent. */
  threads: z.coerce.number().int().min(1).optional(),
  slots: z.coerce.number().int().min(2).default(4),
  json: z.string().default(resultsPath("scheduler", "json")),
});
type Flags = z.infer<typeof Flags>;
const progress = (m: string) => process.stderr.write(`bench scheduler: ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const QUESTIONS = ["Who was Moses?", "What did Noah build?", "Where is Bethlehem?", "Who was king after Saul?", "What is the law?", "Who went to Egypt?", "What did Joseph dream?", "Who wrote the psalms?"];

/** Short chat requests one after another, with a pause between them, as a person at a keyboard sends. */
async function interactiveTtft(d: BenchDaemon, flags: Flags): Promise<Summary> {
  const ttft: number[] = [];
  for (let i = 0; i < flags.interactive; i++) {
    const r = await streamCompletion(d.baseURL, { model: flags.model, messages: [{ role: "user", content: QUESTIONS[i % QUESTIONS.length] }], max_tokens: 8, temperature: 0 }, "chat/completions");
    if (r.status === 200) ttft.push(r.ttftMs);
    await sleep(50);
  }
  return summarize(ttft);
}

/**
 * Long completions in a loop from several clients until `stop` resolves; returns generated tokens per second.
 * Batch work does not stream: it would only load this process, which also times the interactive requests.
 */
function batchLoad(d: BenchDaemon, flags: Flags, priority: "interactive" | "batch") {
  let running = true;
  let tokens = 0;
  const started = performance.now();
  const clients = Array.from({ length: flags["batch-clients"] }, async (_, c) => {
    for (let i = 0; running; i++) {
      const res = await request(`${d.baseURL}/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: flags.model, prompt: `And it came to pass in the ${c + i}th year`, max_tokens: flags["batch-tokens"], temperature: 0.8, seed: c * 1000 + i, priority }),
      });
      const body = (await res.body.json()) as { usage?: { completion_tokens: number } };
      tokens += body.usage?.completion_tokens ?? 0;
    }
  });
  return {
    async stop(): Promise<number> {
      running = false;
      await Promise.all(clients);
      return tokens / ((performance.now() - started) / 1000);
    },
  };
}

async function counter(d: BenchDaemon, name: string): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
}

async function prefixPhase(flags: Flags, served: string, reuse: boolean) {
  const d = await startBenchDaemon([...daemonArgs(flags, served), "--slots", "2"], { llama: { contextSize: 1024, prefixReuse: reuse } });
  try {
    const system = "You are the scribe of the temple. Answer as the King James Bible speaks, in its words and its manner. ".repeat(14);
    const ttft: number[] = [];
    let promptTokens = 0;
    for (let i = 0; i < flags["prefix-requests"]; i++) {
      const r = await streamCompletion(d.baseURL, { model: flags.model, messages: [{ role: "system", content: system }, { role: "user", content: QUESTIONS[i % QUESTIONS.length] }], max_tokens: 4, temperature: 0 }, "chat/completions");
      ttft.push(r.ttftMs);
    }
    const lookups = await counter(d, "edged_prefix_cache_lookups_total");
    const hits = await counter(d, "edged_prefix_cache_hits_total");
    promptTokens = await counter(d, "edged_prompt_tokens_total");
    return { reuse, ttft: summarize(ttft), hitRate: lookups ? hits / lookups : 0, promptTokensPerRequest: promptTokens / flags["prefix-requests"], reusedTokens: await counter(d, "edged_prompt_tokens_reused_total") };
  } finally {
    await d.stop();
  }
}

/** With every slot busy, how long the refusal of a request that cannot meet its deadline takes, seen by the client. */
async function refusalLatency(d: BenchDaemon, flags: Flags): Promise<Summary> {
  const load = batchLoad(d, { ...flags, "batch-clients": flags.slots + 2 }, "interactive");
  await sleep(1500);
  const ms: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    const res = await request(`${d.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-edged-deadline-ms": "5" },
      body: JSON.stringify({ model: flags.model, messages: [{ role: "user", content: "now" }], max_tokens: 4 }),
    });
    await res.body.dump();
    if (res.statusCode === 429) ms.push(performance.now() - started);
  }
  await load.stop();
  return summarize(ms);
}

/** `served` is what --model gets: the id, or a synthetic model's file. */
const daemonArgs = (flags: Flags, served: string) => ["--model", served, ...(flags.threads ? ["--threads", String(flags.threads)] : [])];

export async function runSchedulerBench(argv: string[]): Promise<void> {
  const flags = benchFlags("scheduler", argv, Flags);
  if (!flags) return;
  const { served } = await benchModel(flags.model, progress);
  const d = await startBenchDaemon([...daemonArgs(flags, served), "--slots", String(flags.slots)]);
  // requests name the model as the daemon does (a file given to --model is served under the id it was added as)
  flags.model = d.models[0]!;
  let mixed;
  let refusal;
  try {
    progress(`interactive requests alone (${flags.interactive})`);
    const alone = await interactiveTtft(d, flags);
    mixed = [{ phase: "interactive alone", interactive: alone, batchTokensPerSecond: NaN }];
    for (const priority of ["interactive", "batch"] as const) {
      progress(`beside ${flags["batch-clients"]} batch clients, batch requests marked ${priority}`);
      const load = batchLoad(d, flags, priority);
      await sleep(1000);
      const interactive = await interactiveTtft(d, flags);
      mixed.push({ phase: priority === "batch" ? "mixed, with priorities" : "mixed, no priorities", interactive, batchTokensPerSecond: await load.stop() });
    }
    progress("refusing requests whose deadline cannot be met");
    refusal = await refusalLatency(d, flags);
  } finally {
    await d.stop();
  }
  progress("shared system prompt, prefix reuse off then on");
  const prefix = [await prefixPhase(flags, served, false), await prefixPhase(flags, served, true)];

  const report = { ...reportHeader("scheduler"), model: flags.model, settings: { ...flags, json: undefined }, mixed, prefix, deadlineRefusalMs: refusal };
  await writeJson(flags.json, report);
  console.log(`\ninteractive chat requests (8 tokens) on ${flags.model}, ${flags.slots} slots (1 kept for interactive work), ${flags.threads ?? "measured"} llama.cpp thread(s)\n`);
  console.log(
    formatTable(
      [
        { header: "phase", value: (r: (typeof mixed)[number]) => r.phase, align: "left" },
        { header: "TTFT p50 ms", value: (r) => fixed(r.interactive.p50, 1) },
        { header: "TTFT p99 ms", value: (r) => fixed(r.interactive.p99, 1) },
        { header: "p99 vs alone", value: (r) => fixed(r.interactive.p99 / mixed[0]!.interactive.p99, 2) },
        { header: "batch tok/s", value: (r) => fixed(r.batchTokensPerSecond, 0) },
      ],
      mixed,
    ),
  );
  console.log(`\nshared ~500-token system prompt, ${flags["prefix-requests"]} requests (context 1024)\n`);
  console.log(
    formatTable(
      [
        { header: "prefix reuse", value: (r: (typeof prefix)[number]) => (r.reuse ? "on" : "off"), align: "left" },
        { header: "TTFT p50 ms", value: (r) => fixed(r.ttft.p50, 1) },
        { header: "TTFT p99 ms", value: (r) => fixed(r.ttft.p99, 1) },
        { header: "hit rate", value: (r) => fixed(r.hitRate * 100, 0) + " %" },
        { header: "prompt tokens/request", value: (r) => fixed(r.promptTokensPerRequest, 0) },
      ],
      prefix,
    ),
  );
  console.log(`\nprefix reuse cuts TTFT p50 by ${fixed(prefix[0]!.ttft.p50 / prefix[1]!.ttft.p50, 1)}x`);
  console.log(`a request whose deadline cannot be met is refused in p50 ${fixed(refusal.p50, 2)} ms, p99 ${fixed(refusal.p99, 2)} ms (client round trip, ${refusal.n} refusals)`);
  console.log(`\nJSON: ${flags.json}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runSchedulerBench(process.argv.slice(2));
