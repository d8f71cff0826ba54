/** Worker thread of `BackgroundCheckpointer`: its own connection copies the WAL back into the database file. */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path);
// PASSIVE never waits for the writer: it copies what it can and leaves the rest for the next round
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    parentPort!.postMessage((error as Error).message);
  }
}, intervalMs);
parentPort!.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
