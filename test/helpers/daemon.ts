/** Starts the real `edged serve` in a child process on a free port and stops it with a signal. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { sha256OfFile } from "../../src/models/fileHash.js";
import type { ManifestFileEntry } from "../../src/models/manifest.js";
import { CLI, scratchDir } from "./paths.js";

export interface RunningDaemon {
  url: string;
  dataDir: string;
  /** `${url}/v1`, for the openai client. */
  baseURL: string;
  proc: ChildProcessWithoutNullStreams;
  output(): string;
  /** Sends the signal and resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

export interface DaemonOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Resolve as soon as the server listens, before models are loaded. */
  untilListening?: boolean;
  /** Reuse a data directory (a restart); a fresh one by default. */
  dataDir?: string;
  /** A command the daemon runs under, given the data directory and then the daemon's own command line. */
  wrap?: (dataDir: string) => string[];
}

/**
 * The environment of a daemon under test: this machine's, but with a home of its own and no model-store variables,
 * so that no Ollama, Hugging Face or LM Studio store of the machine running the tests is discovered.
 */
export function isolatedEnv(): NodeJS.ProcessEnv {
  const { OLLAMA_MODELS: _o, HF_HOME: _h, HF_HUB_CACHE: _c, ...env } = process.env;
  return { ...env, HOME: scratchDir("edged-home-") };
}

export async function startDaemon(options: DaemonOptions = {}): Promise<RunningDaemon> {
  const dataDir = options.dataDir ?? scratchDir("edged-data-");
  const command = [process.execPath, CLI, "serve", "--port", "0", "--data-dir", dataDir, ...(options.args ?? [])];
  const [file, ...args] = [...(options.wrap?.(dataDir) ?? []), ...command];
  const proc = spawn(file!, args, { env: { ...isolatedEnv(), ...options.env } });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = once(proc, "exit");
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start in time:\n${out}`)), 30_000);
    const check = () => {
      const listening = /edged listening on (http:\/\/\S+)/.exec(out);
      const ready = /edged ready: .* at (http:\/\/\S+)\/v1/.exec(out);
      const hit = options.untilListening ? listening : ready;
      if (hit) {
        clearTimeout(timer);
        proc.stdout.off("data", check);
        resolve(hit[1]!);
      }
    };
    proc.stdout.on("data", check);
    exited.then(() => reject(new Error(`daemon exited:\n${out}`)));
  });
  return {
    url,
    dataDir,
    baseURL: `${url}/v1`,
    proc,
    output: () => out,
    async stop(signal = "SIGTERM") {
      const started = performance.now();
      if (proc.exitCode === null) proc.kill(signal);
      const [code] = (await exited) as [number | null];
      return { code, ms: performance.now() - started };
    },
  };
}

/** Runs `edged serve` expecting it to fail; resolves with its exit code and output. */
export async function failingServe(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, [CLI, "serve", "--port", "0", "--data-dir", scratchDir("edged-data-"), ...args], { env: { ...isolatedEnv(), ...env } });
  let output = "";
  proc.stdout.on("data", (d: Buffer) => (output += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const [code] = (await once(proc, "exit")) as [number | null];
  return { code, output };
}

type Draft = Omit<Extract<ManifestFileEntry, { engine: "llama" }>, "sha256" | "bytes" | "file" | "devices"> & { path: string };

/** A manifest in `dir` serving the given model files, with their real checksums; the first is the default. */
export async function writeManifest(dir: string, ...chats: [Draft, ...Draft[]]): Promise<string> {
  const models = await Promise.all(
    chats.map(async ({ path, ...entry }) => ({ ...entry, file: basename(path), sha256: await sha256OfFile(path), bytes: (await stat(path)).size })),
  );
  const file = join(dir, "manifest.json");
  await writeFile(file, JSON.stringify({ defaults: { chat: chats[0].id }, models }));
  return file;
}
