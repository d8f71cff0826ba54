/**
 * kill -9 at random moments while a child process replays the queue to a loopback "cloud": after restarts, every
 * job is done with exactly one recorded result, and that result is an answer the cloud gave for that job.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { openDatabase } from "../../src/db/open.js";
import { JobStore } from "../../src/offline/jobStore.js";
import { OFFLINE_MIGRATIONS } from "../../src/offline/migrations.js";
import { ROOT, scratchDir } from "../helpers/paths.js";

const JOBS = 80;
const KILLS = 8;

test("kill -9 at any moment loses no job and records no result twice", { timeout: 120_000 }, async (t) => {
  const path = join(scratchDir("edged-offline-crash-"), "queue.db");
  const store = new JobStore(openDatabase(path, OFFLINE_MIGRATIONS));
  const ids = Array.from({ length: JOBS }, (_, i) => store.enqueue({ idempotencyKey: `visit-${i}`, request: { n: i }, ttlMs: 3_600_000, maxAttempts: 1000 }).job.id);

  // the cloud: answers each call after a short random delay, and remembers which job every answer was for
  const calls: string[] = [];
  const arrived = new EventEmitter();
  const server = createServer((req, res) => {
    req.on("error", () => {});
    res.on("error", () => {});
    if (req.url === "/health") return void res.end("ok");
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk));
    req.on("end", () => {
      const { id } = JSON.parse(body) as { id: string };
      const call = calls.push(id);
      arrived.emit("call");
      setTimeout(() => res.destroyed || res.end(JSON.stringify({ id, call })), 2 + Math.random() * 18);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const children: ChildProcess[] = [];
  const replay = () => {
    // stdin stays open: the child exits when this process ends, even if a failed test left it running
    const child = spawn(process.execPath, [join(ROOT, "dist", "test", "offline", "crashWorker.js"), path, base], { stdio: ["pipe", "inherit", "inherit"] });
    children.push(child);
    return child;
  };
  t.after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    server.closeAllConnections();
    server.close();
  });

  const killedAfter: number[] = [];
  let finished = false;
  for (let round = 0; round < KILLS && !finished; round++) {
    const child = replay();
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    const first = await Promise.race([once(arrived, "call").then(() => "call" as const), exited.then(() => "exit" as const)]);
    if (first === "exit") {
      assert.deepEqual(await exited, [0, null]);
      finished = true;
      break;
    }
    const delay = Math.floor(Math.random() * 60);
    killedAfter.push(delay);
    await sleep(delay);
    child.kill("SIGKILL");
    await exited;
  }
  if (!finished) assert.deepEqual(await once(replay(), "exit"), [0, null]);

  const context = `killed ${killedAfter.length} times, ms after a round's first call: ${killedAfter.join(", ")}`;
  assert.deepEqual(store.counts(), { queued: 0, running: 0, done: JOBS, dead: 0, expired: 0 }, context);
  let recovered = 0;
  for (const id of ids) {
    const job = store.get(id)!;
    const events = store.events(id);
    assert.equal(events.filter((e) => e.event === "done").length, 1, `${id}: ${context}`);
    recovered += events.filter((e) => e.event === "recovered").length;
    const result = job.result as { id: string; call: number };
    assert.equal(result.id, id, context);
    assert.equal(calls[result.call - 1], id, `the recorded result is an answer the cloud gave for ${id}; ${context}`);
    assert.equal(job.attempts, events.filter((e) => e.event === "claimed").length);
  }
  assert.ok(calls.length >= JOBS);
  assert.ok(recovered > 0, `no kill interrupted a send: ${context}`);
  store.db.close();
});
