/**
 * `edged eval`: a suite of cases run against one or more models through the daemon's API, stored in
 * DATA_DIR/eval.db, reported per check type against a baseline (a stored run, or another model run now), with a
 * non-zero exit when a metric regressed past the threshold. Without --url the daemon is started for the run.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { startDaemon } from "../daemon.js";
import { EvalClient } from "../eval/client.js";
import { compare, metricsOf, type Difference, type Metric } from "../eval/compare.js";
import { evalChart, evalTable } from "../eval/report.js";
import { runSuite, type CaseResult } from "../eval/runner.js";
import { EvalStore, type StoredCheck } from "../eval/store.js";
import { loadSuite } from "../eval/suite.js";
import { OnlineSamples } from "../eval/onlineSamples.js";
import { tuneRouter } from "../eval/tuneRouter.js";
import { tuningReport } from "../eval/report.js";
import type { Config } from "../config/schema.js";
import { progressLine } from "./progress.js";
import { UsageError } from "./usage.js";

const USAGE = `usage: edged eval [SUITE.jsonl] [--model ID]... [--baseline RUN | --against ID] [--threshold 0.05]
                  [--url URL] [--api-key KEY] [--embedding-model ID] [--json FILE] [--svg FILE]
                  [--config FILE] [--data-dir DIR]
       edged eval runs [--data-dir DIR]
       edged eval --tune-router [--target 0.9] [--agree-at 0.8] [--json FILE] [--config FILE] [--data-dir DIR]
  SUITE        JSONL cases, each with messages or a prompt and its checks (default: the bundled model's suite)
  --model      a model to evaluate (repeatable; default: the default chat model); each is a stored run
  --baseline   a stored run to compare with (its id in \`edged eval runs\`)
  --against    a model to run the suite on now, as the baseline
  --threshold  a metric lower than the baseline's by more than this fails the command (exit 1)
  --url        a running daemon (its API key from --api-key); without it, edged starts one on loopback
  runs         lists the stored runs
  --tune-router  proposes each route's difficulty threshold and cascade cut-off from online evaluation's samples
               (eval.online): the setting escalating least while the requests kept on the device agree with the
               reference (agreement >= --agree-at) at the --target rate, and what it would have done to them`;

export const BUNDLED_SUITE = join(dirname(fileURLToPath(import.meta.url)), "../../../models/eval/edged-kjv.jsonl");

interface Evaluated {
  runId: number;
  model: string;
  checks: StoredCheck[];
  metrics: Metric[];
  /** Each case's checks with their values and reasons (absent for a stored baseline). */
  cases?: { id: string; latencyMs?: number; checks: CaseResult["checks"] }[];
}

export async function evalCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: "string", multiple: true },
      baseline: { type: "string" },
      against: { type: "string" },
      threshold: { type: "string", default: "0.05" },
      url: { type: "string" },
      "api-key": { type: "string" },
      "embedding-model": { type: "string" },
      json: { type: "string" },
      svg: { type: "string" },
      config: { type: "string" },
      "data-dir": { type: "string" },
      "tune-router": { type: "boolean" },
      target: { type: "string", default: "0.9" },
      "agree-at": { type: "string", default: "0.8" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void console.log(USAGE);
  const config = await loadConfig({ flags: { config: values.config, dataDir: values["data-dir"] } });
  await mkdir(config.dataDir, { recursive: true });
  if (values["tune-router"]) return tuneCommand(config, { target: share(values.target, "--target"), agreeAt: share(values["agree-at"], "--agree-at"), json: values.json });
  const store = new EvalStore(join(config.dataDir, "eval.db"));
  try {
    if (positionals[0] === "runs") return listRuns(store);
    if (positionals.length > 1) throw new UsageError(`one suite at a time\n${USAGE}`);
    const threshold = share(values.threshold, "--threshold");
    if (values.baseline && values.against) throw new UsageError("--baseline and --against cannot be combined: one baseline at a time");
    const suite = await loadSuite(positionals[0] ?? BUNDLED_SUITE);
    const stored = values.baseline === undefined ? undefined : storedBaseline(store, values.baseline, suite.sha256);

    const daemon = values.url ? undefined : await startDaemon({ ...config, host: "127.0.0.1", port: 0 }, () => undefined);
    try {
      await daemon?.ready;
      const client = new EvalClient(values.url ?? daemon!.url, values["api-key"] ?? config.security.apiKeys[0]);
      const models = values.model ?? [daemon?.plan.chat ?? (await defaultModel(values.url!))];
      const embeddingModel = values["embedding-model"] ?? daemon?.plan.embedding ?? "edged-embed:q4";
      const run = async (model: string): Promise<Evaluated> => {
        const { runId, results } = await withProgress(model, suite.cases.length, (onCase) => runSuite(store, suite, { client, model, embeddingModel }, onCase));
        return { ...evaluated(store, runId, model), cases: results.map((c) => ({ id: c.caseId, latencyMs: c.answer?.latencyMs, checks: c.checks })) };
      };
      const baseline: Evaluated | undefined = values.against ? await run(values.against) : stored && evaluated(store, stored.id, stored.model);
      const baselineReport = baseline && { runId: baseline.runId, model: baseline.model, metrics: baseline.metrics };
      const results: (Evaluated & { differences?: Difference[] })[] = [];
      for (const model of models) {
        const result = await run(model);
        results.push({ ...result, differences: baseline && compare(result.checks, baseline.checks, threshold) });
      }
      const report = { suite: suite.path, suiteSha256: suite.sha256, cases: suite.cases.length, threshold, baseline: baselineReport, runs: results.map(({ checks: _, ...r }) => r) };
      console.log(evalTable(report));
      const json = values.json ?? join(config.dataDir, "eval", `run-${results.at(-1)!.runId}.json`);
      const svg = values.svg ?? json.replace(/\.json$/, "") + ".svg";
      await mkdir(dirname(json), { recursive: true });
      await mkdir(dirname(svg), { recursive: true });
      await writeFile(json, JSON.stringify(report, null, 2) + "\n");
      await writeFile(svg, evalChart(report));
      console.log(`\nJSON: ${json}\nchart: ${svg}`);
      const regressed = results.flatMap((r) => (r.differences ?? []).filter((d) => d.regressed).map((d) => `${r.model} ${d.name} ${d.delta.toFixed(3)}`));
      if (regressed.length) throw new Error(`regressed against ${baseline!.model} (run ${baseline!.runId}) past the threshold ${threshold}: ${regressed.join(", ")}`);
    } finally {
      await daemon?.stop();
    }
  } finally {
    store.close();
  }
}

function share(value: string, flag: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new UsageError(`${flag} must be a number from 0 to 1, not ${value}`);
  return n;
}

async function tuneCommand(config: Config, o: { target: number; agreeAt: number; json?: string }): Promise<void> {
  const samples = new OnlineSamples(join(config.dataDir, "eval.db"));
  try {
    const recorded = samples.all();
    if (!recorded.length) throw new Error("no online evaluation samples yet: set eval.online.sampleRate and eval.online.reference, and serve some traffic");
    const tunings = tuneRouter(recorded, config.router, o);
    console.log(tuningReport(tunings, o));
    if (o.json) {
      await mkdir(dirname(o.json), { recursive: true });
      await writeFile(o.json, JSON.stringify({ target: o.target, agreeAt: o.agreeAt, samples: recorded.length, tunings }, null, 2) + "\n");
    }
  } finally {
    samples.close();
  }
}

/** A stored run's checks and metrics. */
function evaluated(store: EvalStore, runId: number, model: string): Evaluated {
  const checks = store.checks(runId);
  return { runId, model, checks, metrics: metricsOf(checks) };
}

/** Runs `work` with a progress line of the cases done and the checks passed so far. */
async function withProgress<T>(model: string, total: number, work: (onCase: (done: number, result: CaseResult) => void) => Promise<T>): Promise<T> {
  const line = progressLine(`eval ${model}`);
  let passed = 0;
  let checks = 0;
  try {
    return await work((done, result) => {
      checks += result.checks.length;
      passed += result.checks.filter((k) => k.pass).length;
      line.update(done, total, `cases, ${passed}/${checks} checks passed`);
    });
  } finally {
    line.end();
  }
}

function storedBaseline(store: EvalStore, id: string, suiteSha256: string) {
  const run = /^\d+$/.test(id) ? store.run(Number(id)) : undefined;
  if (!run) throw new UsageError(`--baseline ${id}: no such run (\`edged eval runs\` lists them)`);
  if (run.suiteSha256 !== suiteSha256) throw new UsageError(`--baseline ${id}: that run was of another suite (${run.suite}, or the file has changed since)`);
  return run;
}

/** A running daemon's default chat model: the first chat model it lists. */
async function defaultModel(url: string): Promise<string> {
  const r = (await (await fetch(`${url}/v1/models`)).json()) as { data?: { id: string }[] };
  const id = r.data?.[0]?.id;
  if (!id) throw new Error(`${url} lists no models: name one with --model`);
  return id;
}

function listRuns(store: EvalStore): void {
  const runs = store.runs();
  if (!runs.length) return void console.log("no runs yet");
  for (const r of runs) console.log(`${String(r.id).padStart(4)}  ${new Date(r.startedAt).toISOString()}  ${r.model.padEnd(24)}  ${String(r.cases).padStart(4)} cases  ${r.suite}${r.finishedAt ? "" : "  (unfinished)"}`);
}
