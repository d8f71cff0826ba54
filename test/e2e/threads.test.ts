/**
 * llama.cpp threads chosen by measurement: the first load of a model on a machine measures the candidate counts and
 * remembers the winner by the file's hash and the machine; a restart reuses it; /v1/loaded and `edged doctor --plan`
 * show it; `--threads` overrides it. Which count wins depends on the machine, so the tests check that the choice
 * is one of the measured counts and is the same everywhere it is reported, never a particular number.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { availableParallelism } from "node:os";
import { test } from "node:test";
import { promisify } from "node:util";
import { threadCandidates } from "../../src/engines/llama/threadTuner.js";
import { isolatedEnv, startDaemon } from "../helpers/daemon.js";
import { CLI, scratchDir } from "../helpers/paths.js";

const run = promisify(execFile);
const DEFAULT_MODEL = "edged-kjv:q4_k_m";

interface Loaded {
  models: { id: string; threads?: number }[];
}
const loadedThreads = async (url: string) => ((await (await fetch(`${url}/v1/loaded`)).json()) as Loaded).models.find((m) => m.id === DEFAULT_MODEL)?.threads;

const measuredLine = (output: string, how: string) => {
  const line = new RegExp(`${DEFAULT_MODEL}: (\\d+) llama\\.cpp thread\\(s\\), ${how} \\(decode tokens/s by threads: (\\{.*?\\})`).exec(output);
  return line && { threads: Number(line[1]), rates: JSON.parse(line[2]!) as Record<string, number> };
};

test("the first load measures the thread counts, keeps one of them, and a restart reuses it without measuring", async () => {
  const dataDir = scratchDir("edged-threads-");
  const first = await startDaemon({ dataDir });
  let chosen: number;
  try {
    const measured = measuredLine(first.output(), "measured now");
    assert.ok(measured, first.output());
    assert.deepEqual(Object.keys(measured.rates).map(Number), threadCandidates(availableParallelism()));
    for (const rate of Object.values(measured.rates)) assert.ok(rate > 0);
    assert.ok(threadCandidates(availableParallelism()).includes(measured.threads));
    chosen = measured.threads;
    assert.equal(await loadedThreads(first.url), chosen);
  } finally {
    await first.stop();
  }

  const second = await startDaemon({ dataDir });
  try {
    assert.equal(measuredLine(second.output(), "measured now"), null, "measured again after a restart");
    assert.equal(measuredLine(second.output(), "measured on this machine")?.threads, chosen, second.output());
    assert.equal(await loadedThreads(second.url), chosen);
  } finally {
    await second.stop();
  }

  const { stdout } = await run(process.execPath, [CLI, "doctor", "--plan", "--json", "--data-dir", dataDir], { env: isolatedEnv() });
  const plan = JSON.parse(stdout) as { threads: Record<string, string> };
  assert.match(plan.threads[DEFAULT_MODEL]!, new RegExp(`^${chosen} \\(measured \\d{4}-\\d\\d-\\d\\d: `));
  const text = await run(process.execPath, [CLI, "doctor", "--plan", "--data-dir", scratchDir("edged-threads-new-")], { env: isolatedEnv() });
  assert.match(text.stdout, new RegExp(`${DEFAULT_MODEL}\\s+measured at first load`));
});

test("--threads overrides the measurement, and doctor --plan says it is configured", async () => {
  const daemon = await startDaemon({ args: ["--threads", "3"] });
  try {
    assert.equal(measuredLine(daemon.output(), "measured now"), null);
    assert.equal(await loadedThreads(daemon.url), 3);
  } finally {
    await daemon.stop();
  }
  const { stdout } = await run(process.execPath, [CLI, "doctor", "--plan", "--threads", "3", "--data-dir", scratchDir("edged-threads-")], { env: isolatedEnv() });
  assert.match(stdout, new RegExp(`${DEFAULT_MODEL}\\s+3 \\(configured\\)`));
});
