/**
 * A child process that replays the queue in the database named in argv[2] to the loopback server at argv[3] and
 * exits 0 once no job is left (3 if any ended dead or expired). The crash test kills it with SIGKILL at random.
 */
import { openDatabase } from "../../src/db/open.js";
import { ConnectivityWatcher } from "../../src/offline/connectivity.js";
import { JobStore } from "../../src/offline/jobStore.js";
import { OFFLINE_MIGRATIONS } from "../../src/offline/migrations.js";
import { ReplayWorker } from "../../src/offline/replayWorker.js";

const [path, base] = process.argv.slice(2);
process.stdin.on("end", () => process.exit(4)).resume(); // the test that started this process has ended
const store = new JobStore(openDatabase(path!, OFFLINE_MIGRATIONS));
const connectivity = new ConnectivityWatcher({ probe: async (signal) => (await fetch(`${base}/health`, { signal })).ok, probeIntervalMs: 20 });
const worker = new ReplayWorker({
  store,
  connectivity,
  send: async (job, signal) => {
    const response = await fetch(`${base}/send`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": job.idempotencyKey },
      body: JSON.stringify({ id: job.id, request: job.request }),
      signal,
    });
    if (!response.ok) throw new Error(`status ${response.status}`);
    return response.json();
  },
  classify: (error) => (error instanceof TypeError ? "connection" : "retryable"),
  backoff: { baseMs: 5, maxMs: 50 },
});

worker.start();
for (;;) {
  await worker.drain();
  const { queued, running } = store.counts();
  if (queued + running === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 10)); // a retry is backing off
}
await worker.stop();
connectivity.stop();
const { dead, expired } = store.counts();
store.db.close();
process.exit(dead + expired === 0 ? 0 : 3);
