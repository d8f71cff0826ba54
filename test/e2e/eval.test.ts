/**
 * `edged eval` through the CLI: the bundled suite on the bundled model, twice, differs by nothing (greedy answers
 * and scored likelihoods are deterministic); a Q2_K quantization of the same weights is caught regressing against
 * Q4_K_M; every kind of check judged on real answers; a bad suite or flag refused with its line and reason.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { isolatedEnv } from "../helpers/daemon.js";
import { CLI, MODELS, scratchDir } from "../helpers/paths.js";

const exec = promisify(execFile);
const dataDir = scratchDir("edged-eval-");

/** Runs `edged ARGS` (with `--data-dir D` for the commands that keep data); resolves with the exit code and output either way. */
async function edged(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const data = args[0] === "quantize" ? [] : ["--data-dir", dataDir];
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args, ...data], { env: isolatedEnv(), maxBuffer: 16 * 2 ** 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Report {
  cases: number;
  runs: { runId: number; model: string; metrics: { name: string; mean: number; passRate: number; checks: number }[]; differences?: { name: string; delta: number; ci: [number, number]; regressed: boolean }[]; cases: { id: string; checks: { type: string; pass: boolean; value: number; detail?: string }[] }[] }[];
}
const report = async (file: string) => JSON.parse(await readFile(file, "utf8")) as Report;

test("the bundled suite, run twice on the bundled model, differs by nothing; a stored run is the baseline", { timeout: 300_000 }, async () => {
  const first = await edged("eval", "--json", join(dataDir, "first.json"));
  assert.equal(first.code, 0, first.stderr);
  const one = (await report(join(dataDir, "first.json"))).runs[0]!;
  assert.equal(one.model, "edged-kjv:q4_k_m");
  assert.deepEqual(one.metrics.map((m) => m.name).sort(), ["all", "json_schema", "loglik", "regex", "similarity"]);
  assert.ok(one.metrics.find((m) => m.name === "loglik")!.mean > 0);
  assert.match(first.stderr, /eval edged-kjv:q4_k_m .*30\/30 cases/);

  const again = await edged("eval", "--baseline", String(one.runId), "--json", join(dataDir, "again.json"));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /against edged-kjv:q4_k_m \(run \d+\)/);
  const differences = (await report(join(dataDir, "again.json"))).runs[0]!.differences!;
  assert.equal(differences.length, 5);
  for (const d of differences) assert.ok(Math.abs(d.delta) < 0.05 && !d.regressed, `${d.name} ${d.delta}`);
  assert.match((await edged("eval", "runs")).stdout, new RegExp(`^ +${one.runId} .*edged-kjv:q4_k_m +30 cases`, "m"));
});

test("a Q2_K quantization of the same weights regresses against Q4_K_M, and the command fails saying where", { timeout: 300_000 }, async () => {
  const q2 = join(dataDir, "kjv-q2_k.gguf");
  assert.equal((await edged("quantize", join(MODELS, "edged-kjv-F16.gguf"), q2, "--type", "Q2_K")).code, 0);
  assert.equal((await edged("models", "add", q2, "--id", "damaged:q2_k")).code, 0);
  const r = await edged("eval", "--model", "damaged:q2_k", "--against", "edged-kjv:q4_k_m", "--json", join(dataDir, "q2.json"));
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /regressed against edged-kjv:q4_k_m \(run \d+\) past the threshold 0\.05: damaged:q2_k loglik -0\.\d+/);
  assert.match(r.stdout, /loglik .* REGRESSED/);
  const loglik = (await report(join(dataDir, "q2.json"))).runs[0]!.differences!.find((d) => d.name === "loglik")!;
  assert.ok(loglik.regressed && loglik.ci[1] < 0, JSON.stringify(loglik));
  // a looser threshold lets it pass
  assert.equal((await edged("eval", "--model", "damaged:q2_k", "--against", "edged-kjv:q4_k_m", "--threshold", "0.5")).code, 0);
});

test("every kind of check is judged on the real answer: texts, JSON, tool calls, similarity, likelihood and a judge", { timeout: 300_000 }, async () => {
  const suite = join(dataDir, "kinds.jsonl");
  const yes = { type: "object", properties: { answer: { enum: ["yes"] } }, required: ["answer"] };
  const weather = { type: "object", properties: { city: { type: "string", maxLength: 12 } }, required: ["city"] };
  const cases = [
    { id: "json", messages: [{ role: "user", content: "Is it so?" }], response_format: { type: "json_schema", json_schema: { name: "yes", schema: yes } }, checks: [{ type: "json_schema", schema: yes }, { type: "contains", value: '"yes"' }, { type: "exact", value: "no" }, { type: "regex", pattern: "^\\{" }] },
    {
      id: "tool",
      messages: [{ role: "user", content: "Weather in Jerusalem?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: weather } }],
      tool_choice: "required",
      max_tokens: 128,
      checks: [{ type: "tool_call", name: "get_weather", arguments: weather }, { type: "tool_call", name: "get_time" }],
    },
    { id: "text", prompt: "In the beginning God created", max_tokens: 8, checks: [{ type: "loglik", continuation: " the heaven and the earth." }, { type: "similarity", reference: "the heaven and the earth", min: 0 }] },
    { id: "judged", messages: [{ role: "user", content: "Who is the shepherd?" }], max_tokens: 12, checks: [{ type: "judge", model: "edged-kjv:q4_k_m", criteria: "names a shepherd" }] },
  ];
  await writeFile(suite, cases.map((c) => JSON.stringify(c)).join("\n") + "\n");
  const r = await edged("eval", suite, "--json", join(dataDir, "kinds.json"));
  assert.equal(r.code, 0, r.stderr);
  const byId = Object.fromEntries((await report(join(dataDir, "kinds.json"))).runs[0]!.cases.map((c) => [c.id, c.checks]));
  assert.deepEqual(byId.json!.map((c) => c.pass), [true, true, false, true]);
  assert.match(byId.json![2]!.detail!, /the answer is/);
  assert.deepEqual(byId.tool!.map((c) => c.pass), [true, false]);
  assert.match(byId.tool![1]!.detail!, /no call of get_time \(get_weather\)/);
  const [loglik, similarity] = byId.text!;
  assert.ok(loglik!.pass && loglik!.value > 0 && loglik!.value < 1, JSON.stringify(loglik));
  assert.match(loglik!.detail!, /^\d+ tokens, log-likelihood -\d/);
  assert.ok(similarity!.pass && similarity!.value >= 0 && similarity!.value <= 1);
  const judged = byId.judged![0]!;
  assert.match(judged.detail!, /^graded \d+\/10 by edged-kjv:q4_k_m$/);
  assert.ok(judged.value >= 0 && judged.value <= 1);
});

test("a bad suite or flag is refused naming the line and the reason", { timeout: 120_000 }, async () => {
  const bad = async (lines: string[], why: RegExp) => {
    const file = join(dataDir, "bad.jsonl");
    await writeFile(file, lines.join("\n"));
    const r = await edged("eval", file);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  };
  const ok = JSON.stringify({ prompt: "In the beginning", checks: [{ type: "contains", value: "God" }] });
  await bad([ok, "{not json"], /bad\.jsonl:2: not JSON/);
  await bad([JSON.stringify({ prompt: "x" })], /bad\.jsonl:1: checks: .*(expected array|Required|received undefined)/i);
  await bad([JSON.stringify({ prompt: "x", messages: [{ role: "user", content: "y" }], checks: [{ type: "exact", value: "x" }] })], /:1: messages: a case has either messages or a prompt/);
  await bad([JSON.stringify({ prompt: "x", checks: [{ type: "regex", pattern: "(" }] })], /:1: checks\.0\.pattern: Invalid regular expression/);
  await bad([JSON.stringify({ prompt: "x", checks: [{ type: "vibes" }] })], /:1: checks\.0\.type: /);
  await bad([JSON.stringify({ messages: [{ role: "user", content: "y" }], checks: [{ type: "loglik", continuation: "z" }] })], /:1: checks\.0\.context: a loglik check needs a context/);
  await bad([ok, ok.replace("{", '{"id":"a",'), ok.replace("{", '{"id":"a",')], /:3: the id "a" is used twice/);
  await bad([""], /the suite has no cases/);

  const missing = await edged("eval", join(dataDir, "nowhere.jsonl"));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /suite not found: .*nowhere\.jsonl/);
  const threshold = await edged("eval", "--threshold", "lots");
  assert.equal(threshold.code, 2);
  assert.match(threshold.stderr, /--threshold must be a number from 0 to 1, not lots/);
  const baseline = await edged("eval", "--baseline", "99999");
  assert.equal(baseline.code, 2);
  assert.match(baseline.stderr, /--baseline 99999: no such run/);
});
