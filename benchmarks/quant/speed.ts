/**
 * Speed and memory of each model, each measured in its own child process (speedWorker.ts). The machine is noisy,
 * so the models are measured in rounds whose order alternates (A B C, then C B A, ...): drift in background load
 * then hits every model alike instead of whichever happened to run last.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median, summarize, type Summary } from "../harness/stats.js";
import { SpeedReply, type SpeedJob, type SpeedSample } from "./speedJob.js";

const WORKER = fileURLToPath(new URL("./speedWorker.js", import.meta.url));

export interface SpeedStats {
  loadMs: number;
  rssModelMiB: number;
  rssPeakMiB: number;
  prefillTokPerSec: number;
  decodeTokPerSec: number;
  ttftMs: Summary;
}

function runWorker(job: SpeedJob): Promise<SpeedSample> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [JSON.stringify(job)], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    let reply: SpeedReply | undefined;
    child.stderr!.on("data", (data: Buffer) => (stderr = (stderr + data.toString()).slice(-2000)));
    child.on("message", (message) => (reply = SpeedReply.parse(message)));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (reply?.ok) resolve(reply.sample);
      else reject(new Error(`speed measurement of ${job.model} failed: ${reply?.error ?? `exit ${code ?? signal}`}${stderr ? `\n${stderr.trim()}` : ""}`));
    });
  });
}

export async function measureSpeed(
  models: readonly string[],
  job: Omit<SpeedJob, "model">,
  rounds: number,
  onRun?: (round: number, index: number) => void,
): Promise<SpeedStats[]> {
  const samples = models.map((): SpeedSample[] => []);
  for (let round = 0; round < rounds; round++) {
    const order = models.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      onRun?.(round, i);
      samples[i]!.push(await runWorker({ ...job, model: models[i]! }));
    }
  }
  const MiB = 2 ** 20;
  return samples.map((s) => ({
    loadMs: median(s.map((x) => x.loadMs)),
    rssModelMiB: Math.max(...s.map((x) => (x.rssPeakBytes - x.rssBeforeLoadBytes) / MiB)),
    rssPeakMiB: Math.max(...s.map((x) => x.rssPeakBytes / MiB)),
    prefillTokPerSec: median(s.flatMap((x) => x.prefillTokPerSec)),
    decodeTokPerSec: median(s.flatMap((x) => x.decodeTokPerSec)),
    ttftMs: summarize(s.flatMap((x) => x.ttftMs)),
  }));
}
