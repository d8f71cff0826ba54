/** Worker thread of `BackgroundCheckpointer`: its own connection copies the WAL back into the database file. */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path);
// PASSIVE never waits for the writer: it copies what it can and leaves the rest for the next round
// a failure is reported once, not every round (a full disk fails each one until space is freed)
let failing: string | undefined;
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    if (failing) parentPort!.postMessage("recovered");
    failing = undefined;
  } catch (error) {
    const message = (error as Error).message;
    if (message !== failing) parentPort!.postMessage(message);
    failing = message;
  }
}, intervalMs);
parentPort!.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
