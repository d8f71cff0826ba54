/** Benchmark results as JSON, with the machine and the code they were measured on. */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { arch, cpus, loadavg, platform, totalmem } from "node:os";
import { dirname } from "node:path";
import { ROOT } from "./paths.js";

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  arch: string;
  node: string;
  /** 1-minute load average when the run ended: a busy machine explains slow or noisy numbers. */
  loadAverage: number;
}

export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? "unknown",
    cores: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: platform(),
    arch: arch(),
    node: process.version,
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/** The checked-out commit, or null outside a git checkout (read-only: never touches the index). */
export function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

export interface ReportHeader {
  benchmark: string;
  date: string;
  commit: string | null;
  machine: MachineInfo;
}

export function reportHeader(benchmark: string): ReportHeader {
  return { benchmark, date: new Date().toISOString(), commit: gitCommit(), machine: machineInfo() };
}

export async function writeText(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

export const writeJson = (path: string, data: unknown): Promise<void> => writeText(path, JSON.stringify(data, null, 2) + "\n");
