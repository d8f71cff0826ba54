/**
 * `npm run bench:server`: the daemon against node-llama-cpp in process, with the same model, prompt and
 * sampling, in one run; then the daemon under 1, 4 and 16 concurrent clients.
 */
import { pathToFileURL } from "node:url";
import { getLlama, type Token } from "node-llama-cpp";
import { z } from "zod";
import { loadManifest } from "../src/models/manifest.js";
import { verifyModelFile } from "../src/models/verify.js";
import { benchFlags } from "./harness/flags.js";
import { resultsPath } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { summarize, type Summary } from "./harness/stats.js";
import { fixed, formatTable } from "../src/report/table.js";
import { startBenchDaemon } from "./harness/daemon.js";
import { streamCompletion, type StreamTiming } from "./harness/streamClient.js";

const Flags = z.object({
  model: z.string().optional(),
  reps: z.coerce.number().int().min(3).default(40),
  tokens: z.coerce.number().int().min(2).default(64),
  "prompt-tokens": z.coerce.number().int().min(4).default(32),
  clients: z.string().default("1,4,16").transform((s) => s.split(",").map(Number)),
  "requests-per-client": z.coerce.number().int().min(1).default(6),
  threads: z.coerce.number().int().min(1).default(1),
  slots: z.coerce.number().int().min(1).default(4),
  json: z.string().default(resultsPath("server", "json")),
});
type Flags = z.infer<typeof Flags>;

const TEXT = "And it came to pass in those days, that there went out a decree from Caesar Augustus, that all the world should be taxed. And all went to be taxed, every one into his own city. And Joseph also went up from Galilee, out of the city of Nazareth";
const progress = (message: string) => process.stderr.write(`bench server: ${message}\n`);

interface SingleStream {
  ttft: Summary;
  decodeTokensPerSecond: Summary;
}

function summarizeRuns(runs: { ttftMs: number; decodeMs: number; tokens: number }[]): SingleStream {
  return {
    ttft: summarize(runs.map((r) => r.ttftMs)),
    decodeTokensPerSecond: summarize(runs.filter((r) => r.tokens > 1).map((r) => ((r.tokens - 1) * 1000) / r.decodeMs)),
  };
}

/** (a) straight through node-llama-cpp: a fresh sequence per run, greedy, timing each generated token. */
async function inProcess(path: string, prompt: string, flags: Flags): Promise<SingleStream> {
  const llama = await getLlama({ gpu: false, build: "never" });
  const model = await llama.loadModel({ modelPath: path });
  const context = await model.createContext({ contextSize: 512, sequences: 1, threads: flags.threads });
  const tokens: Token[] = [model.tokens.bos!, ...model.tokenize(prompt)];
  const runs = [];
  for (let i = 0; i < flags.reps + 2; i++) {
    const sequence = context.getSequence();
    const started = performance.now();
    let first = NaN;
    let last = NaN;
    let count = 0;
    for await (const _ of sequence.evaluate(tokens, { temperature: 0 })) {
      last = performance.now();
      if (count++ === 0) first = last;
      if (count >= flags.tokens) break;
    }
    await sequence.dispose();
    if (i >= 2) runs.push({ ttftMs: first - started, decodeMs: last - first, tokens: count }); // two warm-up runs
  }
  await context.dispose();
  await model.dispose();
  return summarizeRuns(runs);
}

interface LoadLevel {
  clients: number;
  requests: number;
  ok: number;
  rejected429: number;
  errors: number;
  ttft: Summary;
  aggregateTokensPerSecond: number;
}

async function underLoad(baseURL: string, body: object, clients: number, perClient: number): Promise<LoadLevel> {
  const results: StreamTiming[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) results.push(await streamCompletion(baseURL, body).catch(() => ({ status: 0, ttftMs: NaN, decodeMs: NaN, completionTokens: 0 })));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const ok = results.filter((r) => r.status === 200);
  return {
    clients,
    requests: results.length,
    ok: ok.length,
    rejected429: results.filter((r) => r.status === 429).length,
    errors: results.filter((r) => r.status !== 200 && r.status !== 429).length,
    ttft: summarize(ok.map((r) => r.ttftMs)),
    aggregateTokensPerSecond: ok.reduce((n, r) => n + r.completionTokens, 0) / seconds,
  };
}

export async function runServerBench(argv: string[]): Promise<void> {
  const flags = benchFlags("server", argv, Flags);
  if (!flags) return;
  const manifest = await loadManifest();
  const entry = manifest.models.find((m) => m.id === (flags.model ?? manifest.defaults.chat) && m.engine === "llama");
  if (!entry) throw new Error(`no llama model ${flags.model} in the manifest`);
  const path = (await verifyModelFile(entry)).path;

  // A prompt of exactly `prompt-tokens` tokens (BOS included) that both paths tokenize the same way.
  const llama = await getLlama({ gpu: false, build: "never" });
  const probe = await llama.loadModel({ modelPath: path });
  const prompt = probe.detokenize(probe.tokenize(TEXT).slice(0, flags["prompt-tokens"] - 1));
  await probe.dispose();

  progress(`in-process node-llama-cpp, ${flags.reps} runs, ${flags.threads} thread(s)`);
  const direct = await inProcess(path, prompt, flags);
  progress("starting the daemon");
  const daemon = await startBenchDaemon(["--threads", String(flags.threads), "--slots", String(flags.slots), ...(flags.model ? ["--model", flags.model] : [])]);
  const baseURL = `${daemon.url}/v1`;
  const body = { model: entry.id, prompt, max_tokens: flags.tokens, temperature: 0 };
  try {
    progress(`daemon over HTTP, ${flags.reps} runs`);
    const runs = [];
    for (let i = 0; i < flags.reps + 2; i++) {
      const r = await streamCompletion(baseURL, body);
      if (i >= 2) runs.push({ ttftMs: r.ttftMs, decodeMs: r.decodeMs, tokens: r.completionTokens });
    }
    const http = summarizeRuns(runs);
    const levels: LoadLevel[] = [];
    for (const clients of flags.clients) {
      progress(`${clients} concurrent client(s) x ${flags["requests-per-client"]} requests`);
      levels.push(await underLoad(baseURL, body, clients, flags["requests-per-client"]));
    }
    const comparison = {
      addedTtftP50Ms: http.ttft.p50 - direct.ttft.p50,
      addedTtftP99Ms: http.ttft.p99 - direct.ttft.p99,
      decodeRatio: http.decodeTokensPerSecond.p50 / direct.decodeTokensPerSecond.p50,
    };
    const report = { ...reportHeader("server"), model: entry.id, settings: { ...flags, json: undefined }, inProcess: direct, http, comparison, load: levels };
    await writeJson(flags.json, report);

    const paths = [{ name: "in-process node-llama-cpp", s: direct }, { name: "daemon over HTTP", s: http }];
    console.log(`\n${entry.id}: ${flags["prompt-tokens"]}-token prompt, ${flags.tokens} tokens, greedy, ${flags.threads} llama.cpp thread(s)\n`);
    console.log(
      formatTable(
        [
          { header: "path", value: (r: (typeof paths)[number]) => r.name, align: "left" },
          { header: "TTFT p50 ms", value: (r) => fixed(r.s.ttft.p50, 2) },
          { header: "TTFT p99 ms", value: (r) => fixed(r.s.ttft.p99, 2) },
          { header: "decode tok/s p50", value: (r) => fixed(r.s.decodeTokensPerSecond.p50, 0) },
        ],
        paths,
      ),
    );
    console.log(`\nadded by the daemon: TTFT p50 ${fixed(comparison.addedTtftP50Ms, 2)} ms, p99 ${fixed(comparison.addedTtftP99Ms, 2)} ms; decode ${fixed(comparison.decodeRatio * 100, 1)} % of in-process\n`);
    console.log(
      formatTable(
        [
          { header: "clients", value: (r: LoadLevel) => String(r.clients) },
          { header: "requests", value: (r) => String(r.requests) },
          { header: "TTFT p50 ms", value: (r) => fixed(r.ttft.p50, 1) },
          { header: "TTFT p99 ms", value: (r) => fixed(r.ttft.p99, 1) },
          { header: "aggregate tok/s", value: (r) => fixed(r.aggregateTokensPerSecond, 0) },
          { header: "429s", value: (r) => String(r.rejected429) },
          { header: "errors", value: (r) => String(r.errors) },
        ],
        levels,
      ),
    );
    console.log(`\nJSON: ${flags.json}`);
  } finally {
    await daemon.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runServerBench(process.argv.slice(2));
