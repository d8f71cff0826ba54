/**
 * `npm run bench:online`: what online evaluation costs interactive requests. Two daemons on the bundled model, one
 * with eval.online off and one sampling `--rate` of its requests with a bigger local model as the reference (the
 * costliest reference: it takes the device's own time, where a cloud reference takes only an embedding). The same
 * interactive streamed chat requests, arriving at random at `--rps`, go to each in alternating rounds; the report is
 * TTFT p50 and p99 of each, and their ratio, with how many samples the evaluator compared and how often a
 * reference gave way to a request. `--model 140m` serves the 141 M synthetic model instead, with the 488 M one as
 * its reference (both made once into .cache/), at `--rps 1` unless told: a request there takes a few hundred ms.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { benchFlags } from "./harness/flags.js";
import { benchModel, SYNTHETIC_DIR, syntheticModel } from "./harness/syntheticModels.js";
import { idFromFileName } from "../src/models/modelNames.js";
import { startBenchDaemon, type BenchDaemon } from "./harness/daemon.js";
import { displayPath, resultsPath } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { mulberry32 } from "./harness/random.js";
import { percentile } from "./harness/stats.js";
import { streamCompletion } from "./harness/streamClient.js";
import { fixed, formatTable } from "../src/report/table.js";

const Flags = z.object({
  /** The served model: the bundled default, a synthetic size ("140m"), or an id or path. */
  model: z.string().default("bundled"),
  rate: z.coerce.number().min(0).max(1).default(0.05),
  /** The reference model's id; edged-kjv:f16 for the bundled model, the 500m synthetic model for 140m. */
  reference: z.string().optional(),
  /** Requests arrive at random (a Poisson process) at this mean rate, as users' do, however fast they are answered. */
  rps: z.coerce.number().positive().optional(),
  /** Seconds of arrivals per round. */
  seconds: z.coerce.number().positive().default(30),
  rounds: z.coerce.number().int().min(1).default(4),
  json: z.string().optional(),
});
type Flags = z.infer<typeof Flags>;
const progress = (m: string) => process.stderr.write(`bench online: ${m}\n`);

const PROMPTS = ["And God said, Let there be light", "The LORD is my shepherd", "Blessed are the meek", "In the beginning was the Word", "Honour thy father and thy mother"];

/** One round of arrivals; resolves with each request's TTFT once all are answered. */
async function round(daemon: BenchDaemon, flags: { rps: number; seconds: number }, seed: number): Promise<number[]> {
  const random = mulberry32(seed);
  const answers: Promise<number>[] = [];
  const end = performance.now() + flags.seconds * 1000;
  for (let i = 0; performance.now() < end; i++) {
    answers.push(
      streamCompletion(daemon.baseURL, { model: daemon.models[0], max_tokens: 24, messages: [{ role: "user", content: PROMPTS[i % PROMPTS.length] }] }, "chat/completions").then((t) => {
        if (t.status !== 200) throw new Error(`a request answered ${t.status}`);
        return t.ttftMs;
      }),
    );
    await sleep((-Math.log(1 - random()) / flags.rps) * 1000);
  }
  return Promise.all(answers);
}

async function outcomes(daemon: BenchDaemon): Promise<Record<string, number>> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^edged_eval_online_samples_total\{outcome="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

export async function runOnlineBench(argv: string[]): Promise<void> {
  const parsed = benchFlags("online", argv, Flags);
  if (!parsed) return;
  const bundled = parsed.model === "bundled";
  const { served, synthetic, results } = bundled ? { served: undefined, synthetic: false, results: (n: string) => n } : await benchModel(parsed.model, progress);
  // a synthetic model's reference is the next size up, found by the daemon in the synthetic models' folder
  const reference = parsed.reference ?? (synthetic ? idFromFileName(await syntheticModel("500m", "Q4_K_M", progress), "Q4_K_M") : "edged-kjv:f16");
  const flags = { ...parsed, reference, rps: parsed.rps ?? (synthetic ? 1 : 10), json: parsed.json ?? resultsPath(results("online"), "json") };
  const args = served ? ["--model", served] : [];
  const models = synthetic ? { models: { dirs: [SYNTHETIC_DIR] } } : {};
  const off = await startBenchDaemon(args, models, ".cache/bench-online-off");
  const on = await startBenchDaemon(args, { ...models, eval: { online: { sampleRate: flags.rate, reference } } }, ".cache/bench-online-on");
  const ttft = { off: [] as number[], on: [] as number[] };
  try {
    // a warm-up round each, not counted; the reference is loaded first (it stays loaded while samples come, by keep-alive)
    await streamCompletion(on.baseURL, { model: flags.reference, max_tokens: 4, messages: [{ role: "user", content: PROMPTS[0] }] }, "chat/completions", { "x-edged-privacy": "local_only" });
    await round(off, { rps: flags.rps, seconds: 3 }, 1);
    await round(on, { rps: flags.rps, seconds: 3 }, 1);
    for (let r = 0; r < flags.rounds; r++) {
      // both see the same arrivals in a round, in alternating order
      for (const [name, daemon] of (r % 2 ? [["on", on], ["off", off]] : [["off", off], ["on", on]]) as ["off" | "on", BenchDaemon][]) {
        ttft[name].push(...(await round(daemon, flags, 100 + r)));
        progress(`round ${r + 1}/${flags.rounds}, sampling ${name}: ${ttft[name].length} requests`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5000)); // the last samples' references finish
    const samples = await outcomes(on);
    const rows = (["off", "on"] as const).map((name) => ({ name, n: ttft[name].length, p50: percentile(ttft[name], 50), p99: percentile(ttft[name], 99) }));
    const ratio = { p50: rows[1]!.p50 / rows[0]!.p50, p99: rows[1]!.p99 / rows[0]!.p99 };
    console.log(`\n${on.models[0]}, streamed chat arriving at ${flags.rps}/s\n`);
    console.log(
      formatTable(
        [
          { header: "online evaluation", value: (r: (typeof rows)[number]) => (r.name === "off" ? "off" : `sampleRate ${flags.rate}, reference ${reference}`), align: "left" },
          { header: "requests", value: (r) => String(r.n) },
          { header: "TTFT p50 ms", value: (r) => fixed(r.p50, 2) },
          { header: "TTFT p99 ms", value: (r) => fixed(r.p99, 2) },
        ],
        rows,
      ),
    );
    console.log(`\nratio on/off: TTFT p50 ${ratio.p50.toFixed(3)}x, p99 ${ratio.p99.toFixed(3)}x; samples: ${JSON.stringify(samples)}`);
    await writeJson(flags.json, { ...reportHeader("online"), model: on.models[0], flags: { ...flags, json: undefined }, rows, ratio, samples });
    console.log(`wrote ${displayPath(flags.json)}`);
  } finally {
    await on.stop();
    await off.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runOnlineBench(process.argv.slice(2));
