/**
 * `edged alerts export-rules`: the configured rules as a Prometheus rules file, each signal as PromQL with its
 * threshold, for: and severity; `promtool check rules` accepts it (where promtool is installed).
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { isolatedEnv } from "../helpers/daemon.js";
import { CLI, scratchDir } from "../helpers/paths.js";

const exec = promisify(execFile);
const dir = scratchDir();

test("the default rules, and configured ones, as a rules file promtool accepts", async (t) => {
  const defaults = (await exec(process.execPath, [CLI, "alerts", "export-rules"], { env: isolatedEnv() })).stdout;
  assert.equal(defaults.match(/^ {6}- alert: /gm)?.length, 8);
  assert.match(defaults, /- alert: AgreementDrift\n {8}expr: "\(max\(edged_eval_agreement_baseline - edged_eval_agreement\)\) > 0\.05"\n {8}for: 10m\n/);
  assert.match(defaults, /- alert: ErrorRate\n {8}expr: "\(sum\(increase\(edged_http_requests_total\{status=~\\"5\.\.\\"\}\[5m\]\)\) \/ sum\(increase\(edged_http_requests_total\[5m\]\)\)\) > 0\.02"\n {8}for: 5m\n {8}labels:\n {10}severity: "critical"/);

  const config = join(dir, "edged.json");
  await writeFile(config, JSON.stringify({ alerts: { rules: [{ name: "Backlog", signal: "queued_jobs", op: ">", threshold: 10, for: 90, severity: "critical" }] } }));
  const out = join(dir, "rules.yml");
  await exec(process.execPath, [CLI, "alerts", "export-rules", "--config", config, "--out", out], { env: isolatedEnv() });
  const custom = await readFile(out, "utf8");
  assert.equal(custom.match(/- alert: /g)?.length, 1);
  assert.match(custom, /- alert: Backlog\n {8}expr: "\(sum\(edged_offline_jobs\{status=\\"queued\\"\}\)\) > 10"\n {8}for: 90s\n/);

  await writeFile(join(dir, "defaults.yml"), defaults);
  if (spawnSync("promtool", ["--version"]).error) return t.skip("promtool is not installed: the files were not checked by it");
  for (const file of [join(dir, "defaults.yml"), out]) {
    const check = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: \d+ rules found/);
  }
});

test("a bad rule in the configuration is refused naming it", async () => {
  const config = join(dir, "bad.json");
  await writeFile(config, JSON.stringify({ alerts: { rules: [{ name: "Bad", signal: "vibes", op: ">", threshold: 1 }] } }));
  await assert.rejects(exec(process.execPath, [CLI, "alerts", "export-rules", "--config", config], { env: isolatedEnv() }), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 78);
    assert.match(e.stderr, /^edged alerts: invalid configuration: alerts\.rules\.0\.signal: /);
    return true;
  });
});
