/**
 * `npm run bench:peer`: edged against llama.cpp's own llama-server (built once from the llama.cpp source bundled in
 * node-llama-cpp) on the same GGUF files, interleaved in one run: TTFT p50/p99 and streamed decode for one client,
 * aggregate tokens/s and TTFT p99 at 4 and 16 clients, each server with its defaults and with matched threads;
 * and llama-bench's tg as the compute limit. Ratios go to a table, JSON and an SVG chart.
 * Models: the bundled Q4_K_M and synthetic llama models of about 140 M and 500 M parameters (Q4_K_M).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { mkdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { z } from "zod";
import { benchFlags } from "./harness/flags.js";
import { barChart } from "../src/report/barChart.js";
import { startBenchDaemon, stopProcess } from "./harness/daemon.js";
import { ROOT, resultsPath } from "./harness/paths.js";
import { reportHeader, writeJson, writeText } from "./harness/report.js";
import { median, percentile } from "./harness/stats.js";
import { streamCompletion, type StreamTiming } from "./harness/streamClient.js";
import { syntheticModel } from "./harness/syntheticModels.js";
import { fixed, formatTable } from "../src/report/table.js";
import { llamaCppTools } from "./peer/llamaCppTools.js";

const Flags = z.object({
  models: z.string().default("bundled,140m,500m").transform((s) => s.split(",")),
  tokens: z.coerce.number().int().min(8).default(128),
  single: z.coerce.number().int().min(2).default(8),
  rounds: z.coerce.number().int().min(1).default(2),
  slots: z.coerce.number().int().min(1).default(4),
});
type Flags = z.infer<typeof Flags>;

const log = (line: string) => process.stderr.write(`bench peer: ${line}\n`);
const PROMPT = "And it came to pass in those days, that there went out a decree from Caesar Augustus, that all the world should be taxed.";

interface Server {
  name: "edged" | "llama-server";
  baseURL: string;
  /** The model name requests carry. */
  model: string;
  stop(): Promise<void>;
}

function waitFor(proc: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let out = "";
  return new Promise((resolve, reject) => {
    const read = (d: Buffer) => {
      out += d;
      const m = pattern.exec(out);
      if (m) resolve(m[1] ?? "");
    };
    proc.stdout?.on("data", read);
    proc.stderr?.on("data", read);
    proc.on("exit", (code) => reject(new Error(`${what} exited (${code}):\n${out.slice(-3000)}`)));
  });
}

async function startEdged(model: string, threads: number | undefined, slots: number, dataDir: string): Promise<Server> {
  const d = await startBenchDaemon(["--model", model, "--slots", String(slots), ...(threads ? ["--threads", String(threads)] : [])], {}, dataDir);
  const served = d.models[0]!;
  const loaded = (await (await fetch(`${d.url}/v1/loaded`)).json()) as { models: { id: string; threads?: number }[] };
  log(`edged serves ${served} with ${loaded.models.find((m) => m.id === served)?.threads} llama.cpp thread(s)${threads ? "" : " (measured)"}`);
  return { name: "edged", baseURL: d.baseURL, model: served, stop: d.stop };
}

async function startLlamaServer(binary: string, model: string, threads: number | undefined, slots: number, contextPerSlot: number): Promise<Server> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const args = ["-m", model, "--host", "127.0.0.1", "--port", String(port), "-np", String(slots), "-c", String(contextPerSlot * slots), ...(threads ? ["-t", String(threads)] : [])];
  const proc = spawn(binary, args);
  await waitFor(proc, /(listening on http)/, "llama-server");
  // it listens before its model is loaded, answering 503 until then
  while ((await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status !== 200) await new Promise((r) => setTimeout(r, 100));
  return { name: "llama-server", baseURL: `http://127.0.0.1:${port}/v1`, model: basename(model), stop: () => stopProcess(proc) };
}

interface Phase {
  ttftMs: number[];
  decodeTokensPerSecond: number[];
  tokens: number;
  wallMs: number;
  errors: number;
}

/** `clients` clients, each sending `requests` streamed completions one after another. */
async function phase(server: Server, clients: number, requests: number, tokens: number): Promise<Phase> {
  const body = { model: server.model, prompt: PROMPT, max_tokens: tokens, temperature: 0 };
  const timings: StreamTiming[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < requests; i++) timings.push(await streamCompletion(server.baseURL, body));
    }),
  );
  const ok = timings.filter((t) => t.status === 200);
  return {
    ttftMs: ok.map((t) => t.ttftMs),
    decodeTokensPerSecond: ok.filter((t) => t.completionTokens > 1).map((t) => ((t.completionTokens - 1) * 1000) / t.decodeMs),
    tokens: ok.reduce((n, t) => n + t.completionTokens, 0),
    wallMs: performance.now() - started,
    errors: timings.length - ok.length,
  };
}

const merge = (a: Phase | undefined, b: Phase): Phase =>
  a ? { ttftMs: [...a.ttftMs, ...b.ttftMs], decodeTokensPerSecond: [...a.decodeTokensPerSecond, ...b.decodeTokensPerSecond], tokens: a.tokens + b.tokens, wallMs: a.wallMs + b.wallMs, errors: a.errors + b.errors } : b;

interface Figures {
  ttftP50: number;
  ttftP99: number;
  decode: number;
  aggregate4: number;
  ttftP99at4: number;
  aggregate16: number;
  ttftP99at16: number;
  errors: number;
}

function figures(p: Record<"single" | "four" | "sixteen", Phase>): Figures {
  const rate = (x: Phase) => (x.tokens * 1000) / x.wallMs;
  return {
    ttftP50: median(p.single.ttftMs),
    ttftP99: percentile(p.single.ttftMs, 99),
    decode: median(p.single.decodeTokensPerSecond),
    aggregate4: rate(p.four),
    ttftP99at4: percentile(p.four.ttftMs, 99),
    aggregate16: rate(p.sixteen),
    ttftP99at16: percentile(p.sixteen.ttftMs, 99),
    errors: p.single.errors + p.four.errors + p.sixteen.errors,
  };
}

interface PeerResult {
  model: string;
  mode: "defaults" | "matched";
  threads: number | "default";
  llamaBenchTg: { one: number; all: number };
  edged: Figures;
  llamaServer: Figures;
}

async function llamaBenchTg(binary: string, model: string, threads: number): Promise<number> {
  const { stdout } = await promisify(execFile)(binary, ["-m", model, "-t", String(threads), "-p", "0", "-n", "64", "-r", "3", "-o", "json"], { maxBuffer: 1 << 24 });
  const rows = JSON.parse(stdout) as { avg_ts: number; n_gen: number }[];
  return rows.find((r) => r.n_gen > 0)?.avg_ts ?? NaN;
}

async function modelFile(name: string): Promise<string> {
  if (name === "bundled") return join(ROOT, "models", "edged-kjv-Q4_K_M.gguf");
  if (name === "140m" || name === "500m") return syntheticModel(name, "Q4_K_M", log);
  return name;
}

export async function runPeerBench(argv: string[]): Promise<void> {
  const flags = benchFlags("peer", argv, Flags);
  if (!flags) return;
  const tools = await llamaCppTools(log);
  const cores = availableParallelism();
  const results: PeerResult[] = [];
  for (const name of flags.models) {
    const model = await modelFile(name);
    const contextPerSlot = name === "bundled" ? 512 : 4096;
    const tg = { one: await llamaBenchTg(tools.bench, model, 1), all: await llamaBenchTg(tools.bench, model, cores) };
    log(`${name}: llama-bench tg64 ${tg.one.toFixed(1)} tok/s (1 thread), ${tg.all.toFixed(1)} (${cores} threads)`);
    for (const mode of ["defaults", "matched"] as const) {
      const threads = mode === "matched" ? cores : undefined;
      const dataDir = join(ROOT, ".cache", "bench-peer-data");
      await rm(dataDir, { recursive: true, force: true });
      await mkdir(dataDir, { recursive: true });
      const servers = [await startEdged(model, threads, flags.slots, dataDir), await startLlamaServer(tools.server, model, threads, flags.slots, contextPerSlot)];
      const phases = new Map<string, Record<"single" | "four" | "sixteen", Phase>>();
      try {
        for (const s of servers) if ((await phase(s, 1, 2, 16)).errors) throw new Error(`${s.name} refused the warm-up requests`);
        for (let round = 0; round < flags.rounds; round++) {
          const order = round % 2 === 0 ? servers : [...servers].reverse();
          for (const [key, clients, requests] of [["single", 1, flags.single], ["four", 4, 3], ["sixteen", 16, 2]] as const) {
            for (const s of order) {
              log(`${name}, ${mode}, round ${round + 1}: ${s.name} with ${clients} client(s)`);
              const p = await phase(s, clients, requests, flags.tokens);
              const mine = phases.get(s.name) ?? ({} as Record<"single" | "four" | "sixteen", Phase>);
              mine[key] = merge(mine[key], p);
              phases.set(s.name, mine);
            }
          }
        }
      } finally {
        for (const s of servers) await s.stop();
      }
      const edged = figures(phases.get("edged")!);
      const llama = figures(phases.get("llama-server")!);
      results.push({ model: name, mode, threads: threads ?? "default", llamaBenchTg: tg, edged, llamaServer: llama });
    }
  }
  const ratio = (r: PeerResult, key: keyof Figures) => r.edged[key] / r.llamaServer[key];
  await writeJson(resultsPath("peer", "json"), { ...reportHeader("peer"), flags, results });
  const rows = results.flatMap((r) => [
    { r, metric: "decode, 1 client (tok/s)", key: "decode" as const, higher: true },
    { r, metric: "TTFT p50, 1 client (ms)", key: "ttftP50" as const, higher: false },
    { r, metric: "TTFT p99, 1 client (ms)", key: "ttftP99" as const, higher: false },
    { r, metric: "aggregate, 4 clients (tok/s)", key: "aggregate4" as const, higher: true },
    { r, metric: "aggregate, 16 clients (tok/s)", key: "aggregate16" as const, higher: true },
    { r, metric: "TTFT p99, 16 clients (ms)", key: "ttftP99at16" as const, higher: false },
  ]);
  console.log(
    formatTable(
      [
        { header: "model", value: (x: (typeof rows)[number]) => x.r.model, align: "left" },
        { header: "mode", value: (x) => x.r.mode, align: "left" },
        { header: "metric", value: (x) => x.metric, align: "left" },
        { header: "edged", value: (x) => fixed(x.r.edged[x.key], 1) },
        { header: "llama-server", value: (x) => fixed(x.r.llamaServer[x.key], 1) },
        { header: "edged/llama-server", value: (x) => fixed(ratio(x.r, x.key), 2) },
      ],
      rows,
    ),
  );
  for (const r of results) log(`${r.model} ${r.mode}: edged decode is ${((r.edged.decode / r.llamaBenchTg.all) * 100).toFixed(0)} % of llama-bench tg (${cores} threads), ${((r.edged.decode / r.llamaBenchTg.one) * 100).toFixed(0)} % of 1 thread; errors edged ${r.edged.errors}, llama-server ${r.llamaServer.errors}`);
  const series = ["decode", "aggregate4", "aggregate16", "ttftP50", "ttftP99at16"] as const;
  await writeText(
    resultsPath("peer", "svg"),
    barChart({
      title: "edged / llama-server, same GGUF, same machine",
      subtitle: "throughput ratios above 1 favour edged; for TTFT, below 1 favours edged",
      yLabel: "ratio edged / llama-server",
      series: ["decode 1 client", "aggregate 4 clients", "aggregate 16 clients", "TTFT p50 1 client", "TTFT p99 16 clients"],
      groups: results.map((r) => ({ label: `${r.model} ${r.mode}`, values: series.map((k) => ratio(r, k)) })),
      reference: { value: 1, label: "parity" },
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runPeerBench(process.argv.slice(2));
