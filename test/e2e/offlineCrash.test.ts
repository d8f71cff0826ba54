/**
 * The offline queue across crashes of the real daemon: requests deferred while the cloud is unreachable are replayed
 * once it is back, and the daemon is killed with SIGKILL three times during the replay — right after the cloud sent
 * an answer (before the daemon could record it), while a send is in flight, and at a random moment — then restarted
 * on the same data directory. Every accepted job ends done, with the cloud's answer for its own request, recorded once.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { startFakeCloud, type RecordedRequest } from "../fakeCloud/fakeCloud.js";
import { until } from "../helpers/until.js";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";

const MODEL = "edged-kjv:q4_k_m";
const JOBS = 60;
const CHAT = "/v1/chat/completions";

const prompt = (i: number) => `Number ${i} asks what the field will yield`;
/** What the fake cloud answers (test/fakeCloud/protocols.ts): the word count, then the text. */
const expected = (i: number) => `You said 8 words: ${prompt(i)}`;

test("SIGKILL during replay, three times: every deferred job is done once, with its own answer", { timeout: 90_000 }, async (t) => {
  // a kill armed for "the moment the cloud has sent an answer" fires inside the fake's own handler
  let killOnAnswer: (() => void) | undefined;
  const cloud = await startFakeCloud({ apiKey: "sk-crash", latency: { firstByteMs: 20, perTokenMs: 8 }, onCompleted: () => killOnAnswer?.() });
  await cloud.goOffline();
  const dir = scratchDir("edged-offline-crash-");
  const config = join(dir, "edged.json");
  // the breaker opens while the cloud is gone; its short open time stands for an outage longer than it
  await writeFile(
    config,
    JSON.stringify({
      cloud: {
        providers: [
          { id: "fake", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake", apiKeyEnv: "FAKE_KEY", retry: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 50 }, breaker: { openMs: 200 } },
        ],
      },
      // a budget of 1 ms: every request wants the cloud, however fast this machine is
      router: { defaultBudgetMs: 1 },
      offline: { probeInterval: "100ms", retryBaseMs: 20, retryMaxMs: 200, concurrency: 2 },
    }),
  );
  const dataDir = join(dir, "data");
  // a restart returns once the daemon listens: its replay worker starts just before, while the models load
  const start = (untilListening = false) => startDaemon({ dataDir, untilListening, args: ["--config", config], env: { FAKE_KEY: "sk-crash" } });
  let daemon: RunningDaemon = await start();
  t.after(async () => {
    await daemon.stop("SIGKILL");
    await cloud.stop();
  });

  // enqueue while offline: half straight into the queue, half as chat requests that allow deferral
  const accepted = new Map<string, number>();
  await Promise.all(
    Array.from({ length: JOBS }, async (_, i) => {
      const body = { model: MODEL, max_tokens: 300, messages: [{ role: "user", content: prompt(i) }] };
      const headers: Record<string, string> = { "content-type": "application/json", "idempotency-key": `crash-${i}` };
      if (i % 2 === 1) headers["x-edged-allow-defer"] = "true";
      const res = await fetch(`${daemon.url}${i % 2 === 0 ? "/v1/queue" : CHAT}`, { method: "POST", headers, body: JSON.stringify(body) });
      const job = (await res.json()) as { id: string; object: string; status: string };
      assert.equal(res.status, 202, `request ${i}: ${JSON.stringify(job)}`);
      assert.equal(job.object, "queue.job");
      accepted.set(job.id, i);
    }),
  );
  assert.equal(accepted.size, JOBS, "one job per idempotency key");
  assert.equal(cloud.completedByKey.size, 0, "nothing was answered while offline");

  await cloud.goOnline();
  const answered = () => cloud.completedByKey.size;
  const inFlight = () => cloud.requests.some((r) => r.path === CHAT && r.outcome === undefined);
  const kills: string[] = [];
  const kill = (moment: string) => {
    kills.push(`${moment} (${answered()} of ${JOBS} answered)`);
    daemon.proc.kill("SIGKILL");
  };
  const restart = async () => {
    assert.equal((await daemon.stop("SIGKILL")).code, null, "killed, not exited");
    daemon = await start(true);
  };

  // 1: the cloud has just sent an answer; the daemon has not had the time to record it
  await new Promise<void>((resolve) => {
    killOnAnswer = () => {
      if (answered() < 10) return;
      killOnAnswer = undefined;
      kill("just after an answer was sent");
      resolve();
    };
  });
  await restart();
  // 2: a send is in flight
  await until("a send in flight past a third of the jobs", async () => (answered() >= 25 && inFlight() ? true : undefined));
  kill("during a send");
  await restart();
  // 3: anywhere
  await until("two thirds of the jobs answered", async () => (answered() >= 40 ? true : undefined));
  await sleep(Math.random() * 100);
  kill("at a random moment");
  await restart();

  await until("every job finished", async () => {
    const list = (await (await fetch(`${daemon.url}/v1/queue?limit=1`)).json()) as { counts: Record<string, number> };
    return list.counts.queued === 0 && list.counts.running === 0 ? list.counts : undefined;
  });
  const context = `kills: ${kills.join("; ")}`;
  for (const [id, i] of accepted) {
    const job = (await (await fetch(`${daemon.url}/v1/queue/${id}`)).json()) as { status: string; idempotency_key: string; result: any };
    assert.equal(job.status, "done", `job ${id} (request ${i}); ${context}`);
    assert.equal(job.idempotency_key, `crash-${i}`);
    assert.equal(job.result.object, "chat.completion");
    assert.equal(job.result.model, "gpt-fake");
    assert.equal(job.result.choices[0].message.content, expected(i), `job ${id} holds the answer to its own request`);
  }
  await daemon.stop();

  const db = new Database(join(dataDir, "queue.db"), { readonly: true });
  try {
    const jobs = db.prepare("SELECT id, status FROM jobs").all() as { id: string; status: string }[];
    assert.deepEqual(new Set(jobs.map((j) => j.id)), new Set(accepted.keys()), "no job lost, none added");
    const done = db.prepare("SELECT job_id, count(*) AS n FROM job_events WHERE event = 'done' GROUP BY job_id").all() as { job_id: string; n: number }[];
    assert.equal(done.length, JOBS, `a done event for every job; ${context}`);
    assert.deepEqual(done.filter((d) => d.n !== 1), [], "exactly one recorded result per job");
    const requeued = (db.prepare("SELECT count(*) AS n FROM job_events WHERE event = 'recovered'").get() as { n: number }).n;
    assert.ok(requeued >= 1, `a kill during a send left a running job, requeued on restart (${context})`);

    // delivery is at least once: the Idempotency-Key lets the cloud answer a resend from its cache
    const sends = new Map<string, RecordedRequest[]>();
    for (const r of cloud.requests) if (r.path === CHAT && r.idempotencyKey) sends.set(r.idempotencyKey, [...(sends.get(r.idempotencyKey) ?? []), r]);
    const resent = [...sends.values()].filter((rs) => rs.length > 1).length;
    const answeredTwice = [...sends.values()].filter((rs) => rs.filter((r) => r.outcome === "completed" || r.outcome === "replayed").length > 1).length;
    const generatedTwice = [...cloud.completedByKey.values()].filter((n) => n > 1).length;
    t.diagnostic(`${context}; ${requeued} jobs requeued on restart; sent more than once: ${resent}, answered more than once: ${answeredTwice}, generated more than once: ${generatedTwice}`);
  } finally {
    db.close();
  }
});
