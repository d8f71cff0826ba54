/**
 * `npm run bench:soak -- --minutes N`: a steady mixed load against the real daemon for N minutes (default 60) —
 * chat and streamed chat, streams aborted mid-way, requests past their deadline, embeddings, memory create /
 * update / forget / search, offline-queue jobs against a loopback fake cloud that goes down and comes back,
 * a second model loaded and unloaded on demand, and Ollama-API calls — while the daemon's footprint is sampled.
 * It reports the least-squares slope of each series over the second half, errors by kind, and whether every
 * queued job was answered; it fails when a slope exceeds its bound or a request fails unexpectedly.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { startFakeCloud } from "../test/fakeCloud/fakeCloud.js";
import { startDaemon } from "../test/helpers/daemon.js";
import { scratchDir } from "../test/helpers/paths.js";
import { benchFlags } from "./harness/flags.js";
import { lineChart } from "./harness/lineChart.js";
import { resultsPath, ROOT, displayPath } from "./harness/paths.js";
import { mulberry32 } from "./harness/random.js";
import { reportHeader, writeJson, writeText } from "./harness/report.js";
import { mean, slope } from "./harness/stats.js";
import { fixed, formatTable } from "../src/report/table.js";
import { checkJobs, pickKind, run, type LoadContext, type Tally } from "./soak/load.js";
import { sample, SERIES, type Sample, type SeriesName } from "./soak/sampler.js";

const Flags = z.object({
  minutes: z.coerce.number().positive().default(60),
  clients: z.coerce.number().int().min(1).max(64).default(4),
  "sample-seconds": z.coerce.number().positive().default(10),
  /** The fake cloud goes down for this long, then comes back for as long, over and over. */
  "outage-seconds": z.coerce.number().positive().default(60),
  /** A second model is loaded for one answer and unloaded this often. */
  "swap-seconds": z.coerce.number().positive().default(30),
  seed: z.coerce.number().int().default(1),
  /** Bounds on the second half's slopes, per hour. */
  "rss-mib-per-hour": z.coerce.number().default(2),
  "heap-mib-per-hour": z.coerce.number().default(1),
  "external-mib-per-hour": z.coerce.number().default(2),
  "fds-per-hour": z.coerce.number().default(1),
  "threads-per-hour": z.coerce.number().default(1),
  json: z.string().default(resultsPath("soak", "json")),
  svg: z.string().default(resultsPath("soak", "svg")),
});
type Flags = z.infer<typeof Flags>;

const MODEL = "edged-kjv:q4_k_m";
const SWAP_MODEL = "edged-kjv:q8_0";
const progress = (m: string) => process.stderr.write(`bench soak: ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function boundsOf(flags: Flags): Partial<Record<SeriesName, number>> {
  return {
    rssMiB: flags["rss-mib-per-hour"],
    heapMiB: flags["heap-mib-per-hour"],
    externalMiB: flags["external-mib-per-hour"],
    fds: flags["fds-per-hour"],
    threads: flags["threads-per-hour"],
  };
}

/** Minutes of each window whose lowest sample is the series' floor there. */
const FLOOR_WINDOW_MINUTES = 5;

/**
 * The slope per hour of each series over the second half of the run, and its fitted line; and the slope of its
 * floor (the lowest sample of each five minutes). Transient allocations and when the last full GC ran swing RSS
 * and heap by more than a bound's worth of growth within minutes; a leak raises the floor, which they do not.
 */
function trends(samples: readonly Sample[]) {
  const end = samples.at(-1)?.minutes ?? 0;
  const half = samples.filter((s) => s.minutes >= end / 2);
  return Object.fromEntries(
    (Object.keys(SERIES) as SeriesName[]).map((name) => {
      const xs = half.map((s) => s.minutes / 60);
      const ys = half.map((s) => s[name]);
      const perHour = slope(xs, ys);
      const at = (minutes: number) => mean(ys) + perHour * (minutes / 60 - mean(xs));
      const floors = new Map<number, number>();
      for (const s of half) {
        const w = Math.floor(s.minutes / FLOOR_WINDOW_MINUTES);
        floors.set(w, Math.min(floors.get(w) ?? Infinity, s[name]));
      }
      const floorPerHour = slope([...floors.keys()].map((w) => ((w + 0.5) * FLOOR_WINDOW_MINUTES) / 60), [...floors.values()]);
      return [name, { perHour, floorPerHour, from: half[0]?.minutes ?? 0, to: end, at }];
    }),
  ) as Record<SeriesName, { perHour: number; floorPerHour: number; from: number; to: number; at: (minutes: number) => number }>;
}

/** Checks the pending jobs until none is left (the cloud is up by then) or the time is up. */
async function answerAll(ctx: LoadContext, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    await checkJobs(ctx);
    if (!ctx.jobs.pending.size || performance.now() > deadline) return;
    await sleep(1000);
  }
}

export async function runSoakBench(argv: string[]): Promise<void> {
  const flags = benchFlags("soak", argv, Flags);
  if (!flags) return;
  if (process.platform !== "linux") throw new Error("bench soak samples the daemon through /proc: it runs on Linux");
  const prompts = (JSON.parse(await readFile(join(ROOT, "models", "data", "heldout-pairs.json"), "utf8")) as [string, string][]).flat().slice(0, 400);
  const cloud = await startFakeCloud({ apiKey: "sk-soak", latency: { firstByteMs: 30, perTokenMs: 2 } });
  const config = join(scratchDir("edged-soak-"), "edged.json");
  await writeFile(
    config,
    JSON.stringify({
      cloud: { providers: [{ id: "fake", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake", apiKeyEnv: "SOAK_KEY", retry: { maxRetries: 1, baseDelayMs: 20, maxDelayMs: 200 }, breaker: { openMs: 2000 } }] },
      // retention short enough that an hour's run reaches its bounds: finished jobs and stored responses are purged
      offline: { probeInterval: "1s", retryBaseMs: 200, retryMaxMs: 5000, retention: "10m" },
      responses: { retention: "10m" },
      housekeeping: { interval: "1m" },
      memory: { sweepInterval: "10s" },
    }),
  );
  const daemon = await startDaemon({ args: ["--config", config], env: { SOAK_KEY: "sk-soak" } });
  const pid = daemon.proc.pid!;
  progress(`daemon ${pid} at ${daemon.url}; ${flags.clients} clients for ${flags.minutes} min, a sample every ${flags["sample-seconds"]} s`);

  const random = mulberry32(flags.seed);
  const ctx: LoadContext = { url: daemon.url, model: MODEL, swapModel: SWAP_MODEL, prompts, random, live: [], jobs: { queued: 0, done: 0, pending: new Set() } };
  const tallies: Record<string, Tally> = {};
  const startedAt = performance.now();
  const endAt = startedAt + flags.minutes * 60_000;
  const samples: Sample[] = [await sample(pid, daemon.url, daemon.dataDir, startedAt)];
  let cloudUp = true;
  // pending jobs are looked at every 15 s: finished ones are purged after offline.retention, so seen while they last
  let checking: Promise<void> | undefined;
  const timers = [
    setInterval(() => void (checking ??= checkJobs(ctx).finally(() => (checking = undefined))), 15_000),
    setInterval(() => void sample(pid, daemon.url, daemon.dataDir, startedAt).then((s) => samples.push(s)), flags["sample-seconds"] * 1000),
    setInterval(() => void run(ctx, "model_swap", tallies), flags["swap-seconds"] * 1000),
    setInterval(() => {
      cloudUp = !cloudUp;
      void (cloudUp ? cloud.goOnline() : cloud.goOffline());
    }, flags["outage-seconds"] * 1000),
    setInterval(() => {
      const s = samples.at(-1)!;
      const n = Object.values(tallies).reduce((sum, t) => sum + t.unexpected, 0);
      progress(`${s.minutes.toFixed(1)} min: RSS ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB, ${s.fds} fds, data ${s.dataDirMiB.toFixed(1)} MiB, ${n} unexpected`);
    }, 60_000),
  ];
  await Promise.all(
    Array.from({ length: flags.clients }, async () => {
      while (performance.now() < endAt) await run(ctx, pickKind(random), tallies);
    }),
  );
  for (const t of timers) clearInterval(t);
  samples.push(await sample(pid, daemon.url, daemon.dataDir, startedAt));
  const runMinutes = (performance.now() - startedAt) / 60_000;
  if (!cloudUp) await cloud.goOnline();
  await checking;
  progress(`load done; waiting for ${ctx.jobs.pending.size} of ${ctx.jobs.queued} queued jobs to be answered`);
  await answerAll(ctx, 120_000);
  const lost = [...ctx.jobs.pending];
  const stopped = await daemon.stop();
  await cloud.stop();

  const bounds = boundsOf(flags);
  const fitted = trends(samples);
  const series = (Object.keys(SERIES) as SeriesName[]).map((name) => {
    const values = samples.map((s) => s[name]);
    const bound = bounds[name];
    const { perHour, floorPerHour } = fitted[name];
    return { name, ...SERIES[name], first: values[0]!, last: values.at(-1)!, max: Math.max(...values), perHour, floorPerHour, bound: bound ?? null, ok: bound === undefined || !(perHour > bound) };
  });
  const requests = Object.values(tallies).reduce((n, t) => n + t.unexpected + Object.values(t.outcomes).reduce((a, b) => a + b, 0), 0);
  const unexpected = Object.values(tallies).reduce((n, t) => n + t.unexpected, 0);
  const passed = series.every((s) => s.ok) && unexpected === 0 && lost.length === 0 && stopped.code === 0;

  console.log(
    formatTable(
      [
        { header: "series", value: (r: (typeof series)[number]) => `${r.title} (${r.unit})`, align: "left" },
        { header: "first", value: (r) => fixed(r.first, 1) },
        { header: "last", value: (r) => fixed(r.last, 1) },
        { header: "max", value: (r) => fixed(r.max, 1) },
        { header: "slope/h, 2nd half", value: (r) => fixed(r.perHour, 2) },
        { header: "floor slope/h", value: (r) => fixed(r.floorPerHour, 2) },
        { header: "bound/h", value: (r) => (r.bound === null ? "-" : fixed(r.bound, 1)) },
        { header: "", value: (r) => (r.ok ? "ok" : "OVER"), align: "left" },
      ],
      series,
    ),
  );
  const kinds = Object.entries(tallies).sort(([a], [b]) => a.localeCompare(b));
  console.log(
    "\n" +
      formatTable(
        [
          { header: "kind", value: ([k]: (typeof kinds)[number]) => k, align: "left" },
          { header: "outcomes", value: ([, t]) => Object.entries(t.outcomes).map(([o, n]) => `${o}: ${n}`).join(", "), align: "left" },
          { header: "unexpected", value: ([, t]) => String(t.unexpected) },
        ],
        kinds,
      ),
  );
  for (const [kind, t] of kinds) for (const e of t.examples) console.log(`  ${kind}: ${e}`);
  console.log(`\n${requests} requests in ${runMinutes.toFixed(1)} min (${(requests / (runMinutes * 60)).toFixed(1)}/s); ${ctx.jobs.queued} queued jobs, ${lost.length} unanswered; daemon exit ${stopped.code} after ${Math.round(stopped.ms)} ms: ${passed ? "PASS" : "FAIL"}`);

  await writeJson(flags.json, { ...reportHeader("soak"), flags: { ...flags, json: undefined, svg: undefined }, passed, runMinutes, requests, unexpected, queuedJobs: ctx.jobs.queued, unansweredJobs: lost, daemonExit: stopped, series, tallies, samples });
  const svg = lineChart({
    title: `edged soak: ${runMinutes.toFixed(0)} minutes, ${flags.clients} clients, ${requests} requests`,
    subtitle: `dashed: least-squares trend over the second half, per hour; ${unexpected} unexpected errors`,
    xLabel: "minutes",
    panels: series.map((s) => ({
      title: s.title,
      unit: s.unit,
      points: samples.map((p) => ({ x: p.minutes, y: p[s.name] })),
      fit: { from: fitted[s.name].from, to: fitted[s.name].to, at: fitted[s.name].at, label: `${s.perHour >= 0 ? "+" : ""}${s.perHour.toFixed(2)} ${s.unit}/h` },
    })),
  });
  await writeText(flags.svg, svg);
  console.log(`wrote ${displayPath(flags.json)} and ${displayPath(flags.svg)}`);
  if (!passed) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runSoakBench(process.argv.slice(2));
