/** Starts the real daemon for a benchmark, on a free port, and stops it with SIGTERM. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "./paths.js";

export interface BenchDaemon {
  url: string;
  /** The ids it serves, as its ready line lists them (the default chat model first). */
  models: string[];
  baseURL: string;
  stop(): Promise<void>;
}

/** Sends SIGTERM and resolves when the process has exited (at once if it already has). */
export const stopProcess = (proc: ChildProcess) =>
  new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : (proc.once("exit", () => resolve()), proc.kill("SIGTERM"))));

/** `config` is written to a file and passed with --config; `args` are further flags. */
export async function startBenchDaemon(args: string[], config: object = {}, dataDir = ".cache/bench-data"): Promise<BenchDaemon> {
  const configFile = join(ROOT, ".cache", `bench-config-${process.pid}.json`);
  await mkdir(join(ROOT, ".cache"), { recursive: true });
  await writeFile(configFile, JSON.stringify(config));
  const proc = spawn(process.execPath, ["dist/src/cli/edged.cjs", "serve", "--port", "0", "--data-dir", dataDir, "--config", configFile, ...args], {
    cwd: ROOT,
    env: { ...process.env, EDGED_CONFIG: "" },
  });
  let out = "";
  proc.stderr.on("data", (d: Buffer) => (out += d));
  const [models, url] = await new Promise<[string, string]>((resolve, reject) => {
    proc.stdout.on("data", (d: Buffer) => {
      out += d;
      const m = /edged ready: (.*) at (\S+)\/v1/.exec(out);
      if (m) resolve([m[1]!, m[2]!]);
    });
    proc.on("exit", () => reject(new Error(`daemon exited:\n${out}`)));
  });
  return { url, models: models.split(", "), baseURL: `${url}/v1`, stop: () => stopProcess(proc) };
}
