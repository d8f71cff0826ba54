/**
 * `npm run bench:offline`: the offline queue through crashes. With the (fake, loopback) cloud unreachable, N chat
 * requests are deferred to the real daemon — half with POST /v1/queue, half as chat requests allowing deferral,
 * each with its own Idempotency-Key. Then the cloud comes back with a realistic latency, and during the replay the
 * daemon is killed with SIGKILL `--kills` times, at evenly spread points of progress plus a random delay, and
 * restarted on the same data directory. Once every job is finished: lost jobs, duplicated results, wrong answers,
 * resends the cloud saw, jobs requeued after a kill, and the replay's throughput with and without the restarts.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { request } from "undici";
import { z } from "zod";
import { UsageError } from "../src/cli/usage.js";
import { startFakeCloud } from "../test/fakeCloud/fakeCloud.js";
import { startDaemon, type RunningDaemon } from "../test/helpers/daemon.js";
import { auditCloud, auditQueueDb, listDone, type CloudAudit } from "./offline/audit.js";
import { enqueueAll, expectedAnswer, type Enqueued, type Path } from "./offline/enqueue.js";
import { resultsPath, ROOT } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { summarize, type Summary } from "./harness/stats.js";
import { fixed, formatTable } from "../src/report/table.js";

const Flags = z.object({
  jobs: z.coerce.number().int().min(10).default(10_000),
  kills: z.coerce.number().int().min(0).default(5),
  /** offline.concurrency: jobs replayed at once. */
  concurrency: z.coerce.number().int().min(1).max(64).default(32),
  /** Concurrent clients enqueueing. */
  clients: z.coerce.number().int().min(1).default(16),
  "first-byte-ms": z.coerce.number().min(0).default(20),
  "per-token-ms": z.coerce.number().min(0).default(0.5),
  /** Kill this long (uniformly random, ms) after a kill point is reached, so kills land anywhere in a send. */
  jitter: z.coerce.number().min(0).default(50),
  json: z.string().default(resultsPath("offline", "json")),
});
type Flags = z.infer<typeof Flags>;

const USAGE = `usage: edged bench offline [--jobs 10000] [--kills 5] [--concurrency 32] [--clients 16]
  [--first-byte-ms 20] [--per-token-ms 0.5] [--jitter 50] [--json FILE]
Defers --jobs requests while the cloud is unreachable, then replays them with the daemon killed (SIGKILL)
--kills times; --concurrency is offline.concurrency, --clients the concurrent enqueueing clients.`;

const progress = (m: string) => process.stderr.write(`bench offline: ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KEY = "sk-bench-offline";
/** A result stalled this long ends the wait: what is not done by then is reported lost. */
const STALL_MS = 60_000;

interface Kill {
  /** When the daemon's exit was seen: every event up to it is the killed process's, every later one its successor's. */
  at: number;
  /** From the exit until the restarted daemon listens (it replays from then on, while its models load). */
  restartMs: number;
}

async function queueCounts(url: string): Promise<Record<string, number>> {
  const res = await request(`${url}/v1/queue?limit=1`);
  return ((await res.body.json()) as { counts: Record<string, number> }).counts;
}

/** Polls until no job is queued or running; gives up when nothing finished for STALL_MS. */
async function untilFinished(url: string): Promise<void> {
  let last = -1;
  let changedAt = Date.now();
  for (;;) {
    const c = await queueCounts(url);
    const finished = (c.done ?? 0) + (c.dead ?? 0) + (c.expired ?? 0);
    if (!c.queued && !c.running) return;
    if (finished !== last) [last, changedAt] = [finished, Date.now()];
    else if (Date.now() - changedAt > STALL_MS) return void progress(`no progress for ${STALL_MS / 1000} s: giving up with ${c.queued} queued, ${c.running} running`);
    await sleep(250);
  }
}

/** Waits until the cloud has answered `point` jobs; false when no answer came for STALL_MS. */
async function untilAnswered(answeredAt: Map<string, number>, point: number): Promise<boolean> {
  let last = answeredAt.size;
  let changedAt = Date.now();
  while (answeredAt.size < point) {
    if (answeredAt.size !== last) [last, changedAt] = [answeredAt.size, Date.now()];
    else if (Date.now() - changedAt > STALL_MS) return (progress(`no answer for ${STALL_MS / 1000} s: no more kills`), false);
    await sleep(5);
  }
  return true;
}

export async function runOfflineBench(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) return void console.log(USAGE);
  let flags: Flags;
  try {
    const { values } = parseArgs({ args: argv, options: Object.fromEntries(Object.keys(Flags.shape).map((k) => [k, { type: "string" }])) as never });
    flags = Flags.parse(values);
  } catch (error) {
    const message = error instanceof z.ZodError ? error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ") : (error as Error).message;
    throw new UsageError(`${message}\n${USAGE}`);
  }
  const base = join(ROOT, ".cache", "bench-offline");
  const dataDir = join(base, "data");
  const configFile = join(base, "edged.json");
  await rm(base, { recursive: true, force: true });
  await mkdir(base, { recursive: true });

  /** Idempotency key → when the cloud sent its answer (generated, not replayed from the cache). */
  const answeredAt = new Map<string, number>();
  const cloud = await startFakeCloud({
    apiKey: KEY,
    latency: { firstByteMs: flags["first-byte-ms"], perTokenMs: flags["per-token-ms"] },
    onCompleted: (r) => void (r.idempotencyKey && answeredAt.set(r.idempotencyKey, Date.now())),
  });
  await cloud.goOffline();
  await writeFile(
    configFile,
    JSON.stringify({
      // the breaker opens during the outage; a short open time stands for an outage longer than it
      cloud: { providers: [{ id: "cloud", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake", apiKeyEnv: "EDGED_BENCH_CLOUD_KEY", breaker: { openMs: 1000 } }] },
      offline: { concurrency: flags.concurrency, probeInterval: "500ms" },
    }),
  );
  const start = (untilListening = false) => startDaemon({ dataDir, untilListening, args: ["--config", configFile], env: { EDGED_BENCH_CLOUD_KEY: KEY, EDGED_CONFIG: "" } });
  let daemon: RunningDaemon = await start();

  try {
    progress(`enqueueing ${flags.jobs.toLocaleString()} requests from ${flags.clients} clients, cloud offline`);
    const enqueueStarted = performance.now();
    const sent = await enqueueAll(daemon.url, flags.jobs, flags.clients, (n) => progress(`${n.toLocaleString()} sent`));
    const enqueueSeconds = (performance.now() - enqueueStarted) / 1000;
    const accepted = sent.filter((e): e is Enqueued & { id: string } => e.status === 202 && e.id !== undefined);
    if (accepted.length < sent.length) progress(`${sent.length - accepted.length} requests were not accepted with 202`);

    progress(`cloud online: replaying with concurrency ${flags.concurrency}, ${flags.kills} SIGKILLs`);
    await cloud.goOnline();
    const onlineAt = Date.now();
    const kills: Kill[] = [];
    for (let k = 1; k <= flags.kills; k++) {
      const point = Math.round((k * accepted.length) / (flags.kills + 1));
      if (!(await untilAnswered(answeredAt, point))) break;
      await sleep(Math.random() * flags.jitter);
      await daemon.stop("SIGKILL");
      const at = Date.now();
      daemon = await start(true);
      kills.push({ at, restartMs: Date.now() - at });
      progress(`kill ${k} after ${answeredAt.size.toLocaleString()} answers; listening again in ${kills.at(-1)!.restartMs} ms`);
    }
    await untilFinished(daemon.url);
    progress("checking every job");
    const listing = await listDone(daemon.url);
    await daemon.stop();
    const db = auditQueueDb(join(dataDir, "queue.db"));
    const sends = auditCloud(cloud);

    const notDone = accepted.filter((e) => db.statusOf.get(e.id) !== "done");
    const integrity = {
      accepted: accepted.length,
      done: accepted.length - notDone.length,
      lost: notDone.length,
      lostByStatus: countBy(notDone.map((e) => db.statusOf.get(e.id) ?? "missing")),
      duplicatedResults: db.severalDone + listing.listedTwice,
      severalDoneEvents: db.severalDone,
      listedTwice: listing.listedTwice,
      missingFromListing: accepted.filter((e) => !listing.answers.has(e.id)).length,
      wrongAnswers: accepted.filter((e) => listing.answers.has(e.id) && listing.answers.get(e.id) !== expectedAnswer(e.i)).length,
      doneInconsistent: db.doneInconsistent,
      extraJobs: db.rows - accepted.length,
      recoveredJobs: db.recoveredJobs,
      maxAttempts: db.maxAttempts,
      meanAttempts: db.meanAttempts,
    };

    // replay: from the cloud's return to the last result. Progress stops after each kill until the restarted daemon
    // records its first result, and at first until the connectivity watcher's probe sees the cloud back.
    const doneTimes = [...db.doneAt.values()].sort((a, b) => a - b);
    const lastDone = doneTimes.at(-1) ?? onlineAt;
    const seconds = (lastDone - onlineAt) / 1000;
    const nextDone = (t: number) => doneTimes.find((at) => at > t) ?? t;
    const perKill = kills.map((kill, k) => {
      const previous = kills[k - 1]?.at ?? onlineAt;
      return {
        afterMs: kill.at - onlineAt,
        restartMs: kill.restartMs,
        recorded: doneTimes.filter((at) => at <= kill.at).length,
        requeued: db.recoveredAt.filter((at) => at > kill.at && at < (kills[k + 1]?.at ?? Infinity)).length,
        // answered since the previous kill, recorded only after this one: the answer was on its way when the kill came
        answeredNotRecorded: [...answeredAt].filter(([key, at]) => at > previous && at <= kill.at && (db.doneAt.get(key) ?? Infinity) > kill.at).length,
        gapMs: nextDone(kill.at) - kill.at,
      };
    });
    const late = kills.filter((k) => k.at >= lastDone).length;
    if (late) progress(`${late} kill(s) came after the last result: use more --jobs or fewer --kills`);
    const gapSeconds = perKill.reduce((s, k) => s + k.gapMs, 0) / 1000;
    const firstResultMs = nextDone(onlineAt - 1) - onlineAt;
    const replay = {
      seconds,
      firstResultMs,
      restartGapSeconds: gapSeconds,
      jobsPerSecond: db.doneAt.size / seconds,
      jobsPerSecondExcludingRestarts: db.doneAt.size / (seconds - gapSeconds - firstResultMs / 1000),
    };
    const byPath = (path?: Path) => {
      const rows = sent.filter((e) => path === undefined || e.path === path);
      return { n: rows.length, accepted: rows.filter((e) => e.status === 202).length, latencyMs: summarize(rows.map((e) => e.ms)) };
    };
    const enqueue = { seconds: enqueueSeconds, perSecond: sent.length / enqueueSeconds, all: byPath(), queue: byPath("queue"), chat: byPath("chat") };

    const report: Report = { enqueue, replay, kills: perKill, integrity, cloud: sends };
    await writeJson(flags.json, { ...reportHeader("offline"), settings: { ...flags, json: undefined }, ...report });
    print(flags, report);
    console.log(`\nJSON: ${flags.json}`);
    if (integrity.lost === 0 && integrity.duplicatedResults === 0 && integrity.wrongAnswers === 0) await rm(base, { recursive: true, force: true });
    else console.log(`the data directory is kept for inspection: ${dataDir}`);
  } finally {
    await daemon.stop("SIGKILL");
    await cloud.stop();
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

interface EnqueueRow {
  n: number;
  accepted: number;
  latencyMs: Summary;
}

interface Report {
  enqueue: { seconds: number; perSecond: number; all: EnqueueRow; queue: EnqueueRow; chat: EnqueueRow };
  replay: { seconds: number; firstResultMs: number; restartGapSeconds: number; jobsPerSecond: number; jobsPerSecondExcludingRestarts: number };
  kills: { afterMs: number; restartMs: number; recorded: number; requeued: number; answeredNotRecorded: number; gapMs: number }[];
  integrity: { accepted: number; done: number; lost: number; duplicatedResults: number; missingFromListing: number; wrongAnswers: number; extraJobs: number; recoveredJobs: number; maxAttempts: number };
  cloud: CloudAudit;
}

function print(flags: Flags, { enqueue, replay, kills, integrity, cloud: sends }: Report): void {
  const n = (v: number) => v.toLocaleString("en-US");
  console.log(
    `\noffline queue: ${n(flags.jobs)} deferred requests, ${flags.kills} SIGKILLs during the replay, offline.concurrency ${flags.concurrency}, cloud ${flags["first-byte-ms"]} ms + ${flags["per-token-ms"]} ms/token\n`,
  );
  console.log(`enqueue while offline (${flags.clients} clients): ${fixed(enqueue.perSecond, 0)} requests/s\n`);
  const rows: [string, EnqueueRow][] = [
    ["POST /v1/queue", enqueue.queue],
    ["chat, x-edged-allow-defer", enqueue.chat],
    ["all", enqueue.all],
  ];
  console.log(
    formatTable(
      [
        { header: "path", value: (r: [string, EnqueueRow]) => r[0], align: "left" },
        { header: "requests", value: (r) => n(r[1].n) },
        { header: "202", value: (r) => n(r[1].accepted) },
        { header: "p50 ms", value: (r) => fixed(r[1].latencyMs.p50, 2) },
        { header: "p99 ms", value: (r) => fixed(r[1].latencyMs.p99, 2) },
      ],
      rows,
    ),
  );
  console.log(`\nkills\n`);
  console.log(
    formatTable(
      [
        { header: "kill", value: (k: (typeof kills)[number]) => String(kills.indexOf(k) + 1) },
        { header: "s after the cloud came back", value: (k) => fixed(k.afterMs / 1000, 1) },
        { header: "results recorded before", value: (k) => n(k.recorded) },
        { header: "jobs running (requeued on restart)", value: (k) => n(k.requeued) },
        { header: "of which the cloud had answered", value: (k) => n(k.answeredNotRecorded) },
        { header: "exit to listening ms", value: (k) => n(k.restartMs) },
        { header: "exit to next result ms", value: (k) => n(k.gapMs) },
      ],
      kills,
    ),
  );
  console.log(`\nreplay and integrity\n`);
  const facts: [string, string][] = [
    ["accepted (202)", n(integrity.accepted)],
    ["done", n(integrity.done)],
    ["lost", n(integrity.lost)],
    ["duplicated results", n(integrity.duplicatedResults)],
    ["done, yet missing from GET /v1/queue", n(integrity.missingFromListing)],
    ["wrong answers", n(integrity.wrongAnswers)],
    ["jobs not accepted, yet stored", n(integrity.extraJobs)],
    ["jobs requeued after a kill", n(integrity.recoveredJobs)],
    ["most attempts of a job", n(integrity.maxAttempts)],
    ["jobs sent more than once", n(sends.sentTwice)],
    ["jobs answered more than once (idempotency cache)", n(sends.answeredTwice)],
    ["jobs generated more than once by the cloud", n(sends.generatedTwice)],
    ["replay seconds (cloud back to last result)", fixed(replay.seconds, 1)],
    ["  of which after kills, before the next result", fixed(replay.restartGapSeconds, 1)],
    ["first result after the cloud came back, ms", n(replay.firstResultMs)],
    ["replay jobs/s, overall", fixed(replay.jobsPerSecond, 0)],
    ["replay jobs/s, without those gaps and the first result's wait", fixed(replay.jobsPerSecondExcludingRestarts, 0)],
  ];
  console.log(
    formatTable(
      [
        { header: "what", value: (r: [string, string]) => r[0], align: "left" },
        { header: "value", value: (r) => r[1] },
      ],
      facts,
    ),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runOfflineBench(process.argv.slice(2));
