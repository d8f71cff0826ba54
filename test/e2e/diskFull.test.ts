/**
 * A full data directory, on a 4 MiB filesystem of the daemon's own: memory writes, forgets, queued jobs and the
 * cloud budget are refused with 507 insufficient_storage naming the directory and its free space; /ready and
 * /metrics say so; once space is freed every write succeeds again without a restart, with nothing lost or doubled.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { everyRequestToTheCloud } from "../helpers/fakeProviders.js";
import { startFakeCloud, type FakeCloud } from "../fakeCloud/fakeCloud.js";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { fill, free, onSmallDisk, seenFrom, smallDiskUnavailable } from "../helpers/smallDisk.js";
import { until } from "../helpers/until.js";

const MODEL = "edged-kjv:q4_k_m";
const unavailable = smallDiskUnavailable();
let cloud: FakeCloud;
let daemon: RunningDaemon;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${daemon.url}${path}`, { method, headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any };
}

const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(await (await fetch(`${daemon.url}/metrics`)).text())?.[1]);

before(async () => {
  if (unavailable) return;
  cloud = await startFakeCloud({ apiKey: "sk-disk" });
  const config = join(scratchDir(), "edged.json");
  await writeFile(
    config,
    JSON.stringify({
      cloud: { providers: [{ id: "fake", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake", apiKeyEnv: "FAKE_KEY" }] },
      router: everyRequestToTheCloud([{ model: "*", cloud: ["fake"] }], { budgets: { perKeyHourTokens: 1_000_000 } }),
      offline: { retryBaseMs: 20, retryMaxMs: 200 },
      // the default rule, at once rather than after a minute
      alerts: { interval: "100ms", rules: [{ name: "DataDirectoryFull", signal: "data_dir_free_bytes", op: "<", threshold: 256 * 1024, for: "0s", severity: "critical" }] },
    }),
  );
  daemon = await startDaemon({ args: ["--config", config], env: { FAKE_KEY: "sk-disk" }, wrap: onSmallDisk(4) });
});
after(async () => {
  await daemon?.stop();
  if (process.env.EDGED_TEST_LOG) console.error(daemon?.output());
  await cloud?.stop();
});

/** Makes writes until one is refused (a full disk accepts what still fits in space its files already hold). */
async function untilRefused(write: (i: number) => Promise<{ status: number; json: any }>, accepted: number) {
  const done: number[] = [];
  for (let i = 0; i < 200; i++) {
    const r = await write(i);
    if (r.status !== accepted) return { refused: r, at: i, done };
    done.push(i);
  }
  throw new Error("the disk never filled");
}

const alertState = async (name: string) => ((await call("GET", "/v1/alerts")).json.alerts as { name: string; state: string }[]).find((a) => a.name === name)?.state;
const verse = (i: number) => `${i}: ${"And Ruth said, Intreat me not to leave thee. ".repeat(2000)}`;

test("a full data directory is 507 insufficient_storage, and writes succeed again once space is freed", { skip: unavailable }, async () => {
  const kept = await call("POST", "/v1/memory", { subject: "ruth", content: "Whither thou goest, I will go" });
  assert.equal(kept.status, 201);
  const doomed = await call("POST", "/v1/memory", { subject: "ruth", content: "Gleaning in the field of Boaz" });
  assert.equal(doomed.status, 201);
  const filler = await fill(seenFrom(daemon.proc.pid!, daemon.dataDir));

  const memory = await untilRefused((i) => call("POST", "/v1/memory", { subject: "ruth", content: verse(i) }), 201);
  assert.equal(memory.refused.status, 507);
  assert.equal(memory.refused.json.error.code, "insufficient_storage");
  assert.equal(memory.refused.json.error.type, "server_error");
  assert.match(memory.refused.json.error.message, new RegExp(`^The data directory ${daemon.dataDir} is full \\(\\d+ (bytes|KiB) free\\): nothing was written`));
  // a forget writes little and may fit in the WAL space a refused write left behind: it is done whole or refused whole
  const forget = await call("DELETE", `/v1/memory/${doomed.json.id}`);
  assert.ok([200, 507].includes(forget.status), `forget answered ${forget.status}`);
  assert.equal((await call("GET", `/v1/memory/${doomed.json.id}`)).status, forget.status === 200 ? 404 : 200);
  const job = (i: number) => call("POST", "/v1/queue", { model: MODEL, max_tokens: 8, messages: [{ role: "user", content: verse(i) }] }, { "idempotency-key": `ruth-${i}` });
  const queue = await untilRefused(job, 202);
  assert.equal(queue.refused.status, 507);
  assert.equal(queue.refused.json.error.code, "insufficient_storage");
  // kept on the device: the cloud's first answer would make it measured, and the question below is about the cloud
  const ollama = await fetch(`${daemon.url}/api/chat`, { method: "POST", headers: { "content-type": "application/json", "x-edged-privacy": "local_only" }, body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }], stream: false, options: { num_predict: 2 } }) });
  assert.equal(ollama.status, 200, "answers that write nothing are still served");
  // a cloud answer's usage may not be writable now: it is held, counted, and written later
  const escalated = await call("POST", "/v1/chat/completions", { model: MODEL, max_tokens: 40, messages: [{ role: "user", content: "Tell the story of Naomi" }] });
  assert.equal(escalated.status, 200);
  assert.equal(escalated.json.model, "gpt-fake");

  const ready = await call("GET", "/ready");
  assert.equal(ready.status, 503);
  assert.equal(ready.json.status, "storage_full");
  assert.match(ready.json.reason, /data directory .* is full/);
  assert.equal(await metric("edged_data_dir_full"), 1);
  assert.ok((await metric("edged_data_dir_free_bytes")) < 64 * 1024);
  await until("DataDirectoryFull firing", async () => ((await alertState("DataDirectoryFull")) === "firing" ? true : undefined));

  await free(filler);
  await until("the data directory to count as free", async () => ((await call("GET", "/ready")).status === 200 ? true : undefined));
  assert.equal(await metric("edged_data_dir_full"), 0);
  await until("DataDirectoryFull resolved", async () => ((await alertState("DataDirectoryFull")) === "inactive" ? true : undefined));
  assert.match(daemon.output(), /"name":"DataDirectoryFull".*"state":"resolved"/);
  assert.equal((await call("POST", "/v1/memory", { subject: "ruth", content: verse(memory.at) })).status, 201, "the refused write, sent again");
  assert.equal((await call("PATCH", `/v1/memory/${kept.json.id}`, { content: "Whither thou goest" })).json.version, 2);
  const receipt = forget.status === 200 ? forget : await call("DELETE", `/v1/memory/${doomed.json.id}`);
  assert.equal(receipt.status, 200);
  assert.equal((await call("GET", `/v1/memory/${doomed.json.id}`)).status, 404);
  assert.equal((await call("POST", "/v1/memory/receipts/verify", receipt.json)).json.ok, true);
  assert.equal((await job(queue.at)).status, 202, "the refused job, sent again");

  const jobs = [...queue.done, queue.at];
  for (const i of jobs) {
    const done = await until(`job ${i}`, async () => {
      const list = (await call("GET", "/v1/queue?status=done&limit=1000")).json.data as { idempotency_key: string; id: string }[];
      return list.find((j) => j.idempotency_key === `ruth-${i}`);
    });
    const view = (await call("GET", `/v1/queue/${done.id}`)).json;
    assert.match(view.result.choices[0].message.content, new RegExp(`^You said \\d+ words: ${i}: And Ruth said`));
    assert.equal(cloud.completedByKey.get(`ruth-${i}`), 1, `job ${i} sent once`);
  }
  const contents = ((await call("GET", "/v1/memory?subject=ruth&limit=1000")).json.data as { content: string }[]).map((m) => m.content);
  const expected = ["Whither thou goest", ...[...memory.done, memory.at].map(verse)];
  assert.deepEqual(contents.sort(), expected.sort(), "nothing lost, nothing doubled, the forgotten one gone");
  const verify = (await call("GET", "/v1/memory/verify")).json;
  assert.equal(verify.ok, true);
  // the creates (the forgotten one too), one update, one forget; the refused writes left none
  assert.equal(verify.entries, expected.length + 3);
});
