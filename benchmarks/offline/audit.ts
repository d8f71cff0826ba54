/**
 * What the offline benchmark checks once the replay is over, from three independent sources: the done jobs as the
 * API lists them, queue.db itself (read only, after the daemon stopped), and every request the fake cloud saw.
 */
import Database from "better-sqlite3";
import { request } from "undici";
import { z } from "zod";
import type { FakeCloud } from "../../test/fakeCloud/fakeCloud.js";

const Page = z.object({
  data: z.array(z.object({ id: z.string(), result: z.object({ choices: z.array(z.object({ message: z.object({ content: z.string() }) })) }).nullable() })),
});

export interface Listing {
  /** Job id → the answer text of its recorded result. */
  answers: Map<string, string | undefined>;
  /** Jobs listed more than once across the pages. */
  listedTwice: number;
}

/** Every done job, through GET /v1/queue?status=done in pages of 1,000. */
export async function listDone(url: string): Promise<Listing> {
  const answers = new Map<string, string | undefined>();
  let listedTwice = 0;
  for (let after: string | undefined; ; ) {
    const res = await request(`${url}/v1/queue?status=done&limit=1000${after ? `&after=${after}` : ""}`);
    const page = Page.parse(await res.body.json());
    for (const job of page.data) {
      if (answers.has(job.id)) listedTwice++;
      answers.set(job.id, job.result?.choices[0]?.message.content);
    }
    if (page.data.length < 1000) return { answers, listedTwice };
    after = page.data.at(-1)!.id;
  }
}

export interface QueueAudit {
  rows: number;
  keys: number;
  statusOf: Map<string, string>;
  /** Jobs with more than one 'done' event (the schema should make this impossible). */
  severalDone: number;
  /** Done jobs without a result or without their 'done' event. */
  doneInconsistent: number;
  /** When running jobs were requeued at start-up (ms since the epoch): one per job a kill cut off. */
  recoveredAt: number[];
  recoveredJobs: number;
  maxAttempts: number;
  meanAttempts: number;
  /** Idempotency key → when its job's result was recorded (ms since the epoch). */
  doneAt: Map<string, number>;
}

const Count = z.object({ n: z.number() });

export function auditQueueDb(path: string): QueueAudit {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string) => Count.parse(db.prepare(sql).get()).n;
    const statuses = z.array(z.object({ id: z.string(), status: z.string() })).parse(db.prepare("SELECT id, status FROM jobs").all());
    const attempts = z.object({ max: z.number(), mean: z.number() }).parse(db.prepare("SELECT max(attempts) AS max, avg(attempts) AS mean FROM jobs").get());
    const times = (event: string) => z.array(z.object({ at: z.number() })).parse(db.prepare("SELECT at FROM job_events WHERE event = ? ORDER BY at").all(event)).map((r) => r.at);
    return {
      rows: statuses.length,
      keys: count("SELECT count(DISTINCT idempotency_key) AS n FROM jobs"),
      statusOf: new Map(statuses.map((s) => [s.id, s.status])),
      severalDone: count("SELECT count(*) AS n FROM (SELECT job_id FROM job_events WHERE event = 'done' GROUP BY job_id HAVING count(*) > 1)"),
      doneInconsistent: count("SELECT count(*) AS n FROM jobs WHERE status = 'done' AND (result IS NULL OR id NOT IN (SELECT job_id FROM job_events WHERE event = 'done'))"),
      recoveredAt: times("recovered"),
      recoveredJobs: count("SELECT count(DISTINCT job_id) AS n FROM job_events WHERE event = 'recovered'"),
      maxAttempts: attempts.max,
      meanAttempts: attempts.mean,
      doneAt: new Map(
        z
          .array(z.object({ key: z.string(), at: z.number() }))
          .parse(db.prepare("SELECT jobs.idempotency_key AS key, job_events.at FROM job_events JOIN jobs ON jobs.id = job_events.job_id WHERE event = 'done'").all())
          .map((r) => [r.key, r.at]),
      ),
    };
  } finally {
    db.close();
  }
}

export interface CloudAudit {
  chatRequests: number;
  /** Jobs the daemon sent more than once (a send cut by a kill, or answered but not yet recorded). */
  sentTwice: number;
  /** Jobs the cloud answered more than once, the repeats from its Idempotency-Key cache. */
  answeredTwice: number;
  /** Jobs whose answer the cloud generated more than once: a resend the Idempotency-Key did not catch. */
  generatedTwice: number;
}

export function auditCloud(cloud: FakeCloud): CloudAudit {
  const sends = new Map<string, { sent: number; answered: number }>();
  let chatRequests = 0;
  for (const r of cloud.requests) {
    if (r.path !== "/v1/chat/completions" || r.idempotencyKey === undefined) continue;
    chatRequests++;
    const s = sends.get(r.idempotencyKey) ?? { sent: 0, answered: 0 };
    s.sent++;
    if (r.outcome === "completed" || r.outcome === "replayed") s.answered++;
    sends.set(r.idempotencyKey, s);
  }
  const over = (values: Iterable<number>) => [...values].filter((n) => n > 1).length;
  return {
    chatRequests,
    sentTwice: over([...sends.values()].map((s) => s.sent)),
    answeredTwice: over([...sends.values()].map((s) => s.answered)),
    generatedTwice: over(cloud.completedByKey.values()),
  };
}
