/**
 * `npm run bench:router`: the latency-threshold router.
 *  1. Decision overhead, in process: Router.decide for requests the device keeps (difficulty from prompt features)
 *     and for requests that escalate (redaction scan, token budget in SQLite, cloud predictions); and the same with
 *     labelled examples, where difficulty also embeds the prompt with the bundled ONNX model.
 *  2. A mixed workload through the real daemon (bundled model) and a loopback fake cloud with cloud-like latency:
 *     requests with budgets of 30, 50, 100 and 500 ms, each budget with its typical answer length, sent by
 *     concurrent clients under three strategies in the same run — the router, always local (local_only) and always
 *     cloud (the fake cloud called directly) — in alternating phases, for two cloud profiles: one fast enough to
 *     answer within the budgets it is needed for, and one as slow as a typical hosted model. A fourth strategy is
 *     the router with `router.offloadWhenBusy` (a second daemon).
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { createProvider } from "../src/cloud/providers.js";
import { openDatabase } from "../src/db/open.js";
import { OnnxEmbedder } from "../src/engines/onnx/onnxEmbedder.js";
import { loadManifest, type OnnxModelEntry } from "../src/models/manifest.js";
import { BUDGET_MIGRATIONS } from "../src/router/budgetMigrations.js";
import { DifficultyEstimator } from "../src/router/difficulty.js";
import { Router, type RoutingInput } from "../src/router/router.js";
import { RouterConfig } from "../src/router/schemas.js";
import { keyIdOf, TokenBudget } from "../src/router/tokenBudget.js";
import { startFakeCloud } from "../test/fakeCloud/fakeCloud.js";
import { startBenchDaemon } from "./harness/daemon.js";
import { resultsPath, ROOT } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { percentile, summarize, type Summary } from "./harness/stats.js";
import { mulberry32 } from "./harness/random.js";
import { fixed, formatTable } from "../src/report/table.js";

const Flags = z.object({
  requests: z.coerce.number().int().min(8).default(200),
  /** Concurrent clients of each workload run, one run per value. */
  concurrency: z.string().default("2,4").transform((s) => s.split(",").map((n) => z.coerce.number().int().min(1).parse(n))),
  decisions: z.coerce.number().int().min(100).default(20000),
  profiles: z.string().default("fast,hosted"),
  json: z.string().default(resultsPath("router", "json")),
});
type Flags = z.infer<typeof Flags>;
const progress = (m: string) => process.stderr.write(`bench router: ${m}\n`);

/** Cloud latency profiles: time to first byte (jittered ±20 %) and time per generated token. */
const PROFILES = {
  fast: { firstByteMs: 35, perTokenMs: 0.1, about: "a nearby fast provider: 35 ms to first byte, 10,000 tokens/s" },
  hosted: { firstByteMs: 300, perTokenMs: 10, about: "a typical hosted model: 300 ms to first byte, 100 tokens/s" },
} as const;
type ProfileName = keyof typeof PROFILES;

/** Budgets with the answer length that goes with them: tight budgets ask for short answers. */
const CLASSES = [
  { budgetMs: 30, maxTokens: 16 },
  { budgetMs: 50, maxTokens: 32 },
  { budgetMs: 100, maxTokens: 160 },
  { budgetMs: 500, maxTokens: 400 },
] as const;

const EXAMPLES = [
  { text: "Prove that the square root of two is irrational, step by step.", label: "complex" as const },
  { text: "Compare three designs for a distributed cache and analyse their trade-offs.", label: "complex" as const },
  { text: "Derive the formula for the sum of a geometric series and explain each step.", label: "complex" as const },
  { text: "Write a detailed plan to migrate a monolith to services, with risks.", label: "complex" as const },
  { text: "What time is it?", label: "simple" as const },
  { text: "Say hello.", label: "simple" as const },
  { text: "Who is the shepherd?", label: "simple" as const },
  { text: "Name a fruit.", label: "simple" as const },
];

async function decisionOverhead(flags: Flags) {
  const clouds = new Map([["cloud", createProvider({ id: "cloud", kind: "openai", baseUrl: "http://127.0.0.1:9/v1", model: "m" })]]);
  const db = openDatabase(join(await mkdtemp(join(tmpdir(), "edged-bench-router-")), "usage.db"), BUDGET_MIGRATIONS);
  const budget = new TokenBudget(db, { perHour: 1e12 });
  const manifest = await loadManifest();
  const entry = manifest.models.find((m) => m.id === manifest.defaults.embedding) as OnnxModelEntry;
  const embedder = await OnnxEmbedder.load(entry.path, entry, { threads: 1 });
  const make = (examples: typeof EXAMPLES | []) =>
    new Router({
      config: RouterConfig.parse({ examples }),
      clouds,
      isLocal: () => true,
      defaultLocal: () => "local",
      difficulty: new DifficultyEstimator({ examples, embed: (texts) => embedder.embed(texts) }),
      budget,
      connectivity: { online: true },
    });
  const long = `Please write to jane.doe@example.com about invoice 4111 1111 1111 1111. ${"And the word of the Lord came unto him, saying, ".repeat(20)}`;
  const input = (content: string, maxTokens: number): RoutingInput => {
    const router = make([]);
    return {
      route: router.routeFor("local")!,
      messages: [{ role: "user", content }],
      promptTokens: Math.ceil(content.length / 4),
      maxTokens,
      fits: true,
      budgetMs: 50,
      privacy: "default",
      allowDefer: false,
      keyId: keyIdOf("bench"),
      local: { keys: ["local@cpu#1", "local@cpu"], waitMs: 0, busy: false },
    };
  };
  const cases = [
    { name: "kept local (features)", router: make([]), input: input("Who is the shepherd of Israel?", 8) },
    { name: "escalated (guard, budget)", router: make([]), input: input(long, 400) },
    { name: "kept local (features + examples)", router: make(EXAMPLES), input: input("Who is the shepherd of Israel?", 8) },
  ];
  const rows = [];
  for (const c of cases) {
    const route = (await c.router.decide(c.input)).decision.route;
    const ms: number[] = [];
    for (let i = 0; i < flags.decisions; i++) {
      const t = performance.now();
      await c.router.decide(c.input);
      ms.push(performance.now() - t);
    }
    rows.push({ name: c.name, route, ...summarize(ms) });
  }
  await embedder.dispose();
  db.close();
  return rows;
}

interface Outcome {
  strategy: Strategy;
  budgetMs: number;
  ms: number;
  route: string;
  status: number;
}
type Strategy = "router" | "offload" | "local" | "cloud";

async function workload(profile: ProfileName, concurrency: number, flags: Flags, prompts: string[]) {
  const p = PROFILES[profile];
  const cloud = await startFakeCloud();
  const jitter = mulberry32(7);
  cloud.setFaults(() => ({ latency: { firstByteMs: p.firstByteMs * (0.8 + 0.4 * jitter()), perTokenMs: p.perTokenMs } }));
  const config = (offloadWhenBusy: boolean) => ({
    cloud: { providers: [{ id: "cloud", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "cloud-model", retry: { maxRetries: 0 } }] },
    // the provider's nominal speed, as an operator would configure it; measurements take over from the first answer
    router: { priors: { cloudFirstByteMs: p.firstByteMs, cloudTokensPerSecond: 1000 / p.perTokenMs }, offloadWhenBusy },
  });
  const daemon = await startBenchDaemon([], config(false));
  const offloading = await startBenchDaemon(["--data-dir", ".cache/bench-data-offload"], config(true));
  const random = mulberry32(42);
  const specs = Array.from({ length: flags.requests }, (_, i) => ({ ...CLASSES[i % CLASSES.length]!, prompt: prompts[Math.floor(random() * prompts.length)]! }));
  const send = async (strategy: Strategy, spec: (typeof specs)[number]): Promise<Outcome> => {
    const body = { model: strategy === "cloud" ? "cloud-model" : "edged-kjv:q4_k_m", max_tokens: spec.maxTokens, temperature: 0, messages: [{ role: "user", content: spec.prompt }] };
    const headers: Record<string, string> = { "content-type": "application/json", "x-edged-latency-budget-ms": String(spec.budgetMs) };
    if (strategy === "local") headers["x-edged-privacy"] = "local_only";
    const url = strategy === "cloud" ? `${cloud.openaiBaseUrl}/chat/completions` : `${(strategy === "offload" ? offloading : daemon).baseURL}/chat/completions`;
    const t = performance.now();
    const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
    await res.arrayBuffer();
    const ms = performance.now() - t;
    return { strategy, budgetMs: spec.budgetMs, ms, status: res.status, route: strategy === "cloud" ? "cloud" : (res.headers.get("x-edged-route") ?? "?") };
  };
  const phase = async (strategy: Strategy): Promise<Outcome[]> => {
    const out: Outcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < specs.length) out.push(await send(strategy, specs[next++]!));
      }),
    );
    return out;
  };
  progress(`${profile}, ${concurrency} clients: warming up`);
  for (const spec of specs.slice(0, 16)) for (const strategy of ["router", "offload"] as const) await send(strategy, spec);
  const outcomes: Outcome[] = [];
  for (const order of [["router", "offload", "local", "cloud"], ["cloud", "local", "offload", "router"]] as Strategy[][]) {
    for (const strategy of order) {
      progress(`${profile}, ${concurrency} clients: ${strategy}, ${specs.length} requests`);
      outcomes.push(...(await phase(strategy)));
    }
  }
  await daemon.stop();
  await offloading.stop();
  await cloud.stop();
  const summary = (strategy: Strategy) => {
    const rows = outcomes.filter((o) => o.strategy === strategy);
    const share = (f: (o: Outcome) => boolean, of = rows) => (of.length ? of.filter(f).length / of.length : NaN);
    const met = (o: Outcome) => o.status === 200 && o.ms <= o.budgetMs;
    return {
      strategy,
      requests: rows.length,
      errors: rows.filter((o) => o.status !== 200).length,
      local: share((o) => o.route === "local"),
      escalated: share((o) => o.route === "cloud"),
      met: share(met),
      metByBudget: Object.fromEntries(CLASSES.map((c) => [c.budgetMs, share(met, rows.filter((o) => o.budgetMs === c.budgetMs))])),
      latency: summarize(rows.map((o) => o.ms)),
      p99ByBudget: Object.fromEntries(CLASSES.map((c) => [c.budgetMs, percentile(rows.filter((o) => o.budgetMs === c.budgetMs).map((o) => o.ms), 99)])),
    };
  };
  return { profile, concurrency, about: p.about, strategies: (["router", "offload", "local", "cloud"] as const).map(summary) };
}

export async function runRouterBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { requests: { type: "string" }, concurrency: { type: "string" }, decisions: { type: "string" }, profiles: { type: "string" }, json: { type: "string" } } });
  const flags = Flags.parse(values);
  const profiles = flags.profiles.split(",").map((name) => z.enum(["fast", "hosted"]).parse(name));
  progress(`timing ${flags.decisions.toLocaleString()} decisions per case`);
  const decisions = await decisionOverhead(flags);
  const prompts = (JSON.parse(await readFile(join(ROOT, "models", "data", "heldout-pairs.json"), "utf8")) as [string, string][]).map(([verse]) => verse).slice(0, 200);
  const workloads = [];
  for (const profile of profiles) for (const concurrency of flags.concurrency) workloads.push(await workload(profile, concurrency, flags, prompts));
  await writeJson(flags.json, { ...reportHeader("router"), settings: { ...flags, json: undefined, classes: CLASSES, profiles: PROFILES }, decisions, workloads });

  const ms = (s: Summary) => `${fixed(s.p50, 3)} / ${fixed(s.p99, 3)}`;
  console.log(`\nbudgets and answer lengths: ${CLASSES.map((c) => `${c.budgetMs} ms with max_tokens ${c.maxTokens}`).join(", ")}; one request in four of each`);
  console.log(`\nrouter decision overhead, ms p50 / p99 (${flags.decisions.toLocaleString()} decisions each)\n`);
  console.log(formatTable([{ header: "case", value: (r: (typeof decisions)[number]) => r.name }, { header: "route", value: (r) => r.route }, { header: "p50 / p99", value: (r) => ms(r) }], decisions));
  const pct = (x: number) => (Number.isNaN(x) ? "-" : `${fixed(x * 100, 1)} %`);
  for (const w of workloads) {
    console.log(`\nmixed workload, ${w.concurrency} clients, cloud profile "${w.profile}" (${w.about})\n`);
    type S = (typeof w.strategies)[number];
    console.log(
      formatTable(
        [
          { header: "strategy", value: (s: S) => s.strategy },
          { header: "served locally", value: (s) => pct(s.local) },
          { header: "escalated", value: (s) => pct(s.escalated) },
          { header: "met budget", value: (s) => pct(s.met) },
          ...CLASSES.map((c) => ({ header: `met ${c.budgetMs} ms`, value: (s: S) => pct(s.metByBudget[c.budgetMs]!) })),
          { header: "p50 / p99 ms", value: (s) => `${fixed(s.latency.p50, 1)} / ${fixed(s.latency.p99, 1)}` },
          { header: "errors", value: (s) => String(s.errors) },
        ],
        w.strategies,
      ),
    );
  }
  console.log(`\nJSON: ${flags.json}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runRouterBench(process.argv.slice(2));
