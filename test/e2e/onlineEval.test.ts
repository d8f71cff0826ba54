/**
 * Online evaluation against the loopback fake cloud as the reference: sampled requests answered on the device are
 * answered again by the cloud in the background, their agreement is recorded per model, route and kind and shown
 * in /metrics; local_only requests, requests the redaction policy would change, and requests with an output format
 * never reach the reference; agreement falling below its baseline raises AgreementDrift; and
 * `edged eval --tune-router` proposes a difficulty threshold from the recorded samples.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { startFakeCloud, type FakeCloud } from "../fakeCloud/fakeCloud.js";
import { isolatedEnv, startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { CLI, scratchDir } from "../helpers/paths.js";
import { until } from "../helpers/until.js";

const exec = promisify(execFile);
const MODEL = "edged-kjv:q4_k_m";
const dir = scratchDir("edged-online-");
const dataDir = join(dir, "data");
let cloud: FakeCloud;
let daemon: RunningDaemon;

before(async () => {
  cloud = await startFakeCloud();
  const config = join(dir, "edged.json");
  await writeFile(
    config,
    JSON.stringify({
      cloud: { providers: [{ id: "cloud", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake" }] },
      router: {
        defaultBudgetMs: 60_000,
        // difficulty is scored (the examples) but never escalates: every request stays on the device
        examples: [
          { text: "In the beginning God created the heaven and the earth.", label: "simple" },
          { text: "Derive the closed form of the integral and prove its convergence.", label: "complex" },
        ],
        routes: [{ model: "verses", local: MODEL, cloud: ["cloud"], difficultyThreshold: 1 }],
      },
      eval: { online: { sampleRate: 1, reference: "cloud", window: 3 } },
      alerts: { interval: "250ms", rules: [{ name: "AgreementDrift", signal: "agreement_drop", op: ">", threshold: 0.05, for: "0s", severity: "warning" }] },
    }),
  );
  daemon = await startDaemon({ dataDir, args: ["--config", config] });
});
after(async () => {
  await daemon?.stop();
  await cloud?.stop();
});

const PING = [{ type: "function", function: { name: "ping", parameters: { type: "object", properties: {}, additionalProperties: false } } }];

async function chat(body: object, headers: Record<string, string> = {}) {
  const res = await fetch(`${daemon.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "verses", max_tokens: 8, ...body }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get("x-edged-route"), "local");
  return (await res.json()) as { choices: { message: { content: string | null; tool_calls?: { function: { name: string; arguments: string } }[] } }[] };
}
const ping = () => chat({ max_tokens: 64, messages: [{ role: "user", content: "Ping the server." }], tools: PING, tool_choice: { type: "function", function: { name: "ping" } }, parallel_tool_calls: false });

const metrics = async () => (await fetch(`${daemon.url}/metrics`)).text();
const outcome = (text: string, name: string) => Number(new RegExp(`^edged_eval_online_samples_total\\{outcome="${name}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
const untilOutcome = (name: string, n: number) => until(`${n} samples ${name}`, async () => (outcome(await metrics(), name) >= n ? true : undefined), 60_000, 100);
const chatCalls = () => cloud.requests.filter((r) => r.path === "/v1/chat/completions");

test("tool calls that agree set the baseline; a reference that calls another tool drifts, and AgreementDrift fires", { timeout: 180_000 }, async () => {
  for (let i = 0; i < 3; i++) assert.deepEqual(JSON.parse((await ping()).choices[0]!.message.tool_calls?.[0]?.function.arguments ?? "null"), {});
  await untilOutcome("compared", 3);
  let text = await metrics();
  const series = `model="${MODEL}",route="verses",kind="tool_calls"`;
  assert.match(text, new RegExp(`^edged_eval_agreement\\{${series}\\} 1$`, "m"));
  assert.match(text, new RegExp(`^edged_eval_agreement_baseline\\{${series}\\} 1$`, "m"));
  // the reference got the request as the client sent it, tools and choice included
  const asked = chatCalls().at(-1)!.body as { tools: { function: { name: string } }[]; tool_choice: unknown };
  assert.equal(asked.tools[0]!.function.name, "ping");

  cloud.setFaults(() => ({ callTool: "pong" }));
  for (let i = 0; i < 3; i++) await ping();
  await untilOutcome("compared", 6);
  text = await metrics();
  assert.match(text, new RegExp(`^edged_eval_agreement\\{${series}\\} 0$`, "m"));
  assert.match(text, new RegExp(`^edged_eval_agreement_baseline\\{${series}\\} 1$`, "m"));
  // it fires at the first evaluation past the threshold (maybe with only part of the window disagreeing yet), and
  // shows the whole drop from the evaluation after the window's last sample on
  const drift = await until("AgreementDrift firing with the whole drop", async () => {
    const { alerts } = (await (await fetch(`${daemon.url}/v1/alerts`)).json()) as { alerts: { name: string; state: string; value?: number }[] };
    return alerts.find((a) => a.name === "AgreementDrift" && a.state === "firing" && a.value === 1);
  });
  assert.equal(drift.value, 1);
  assert.match(daemon.output(), /"event":"alert","name":"AgreementDrift".*"state":"firing"/);
  cloud.setFaults([]);
});

test("local_only requests, requests the redaction policy would change, and output formats never reach the reference", { timeout: 120_000 }, async () => {
  const before = chatCalls().length;
  await chat({ messages: [{ role: "user", content: "Keep this on the device." }] }, { "x-edged-privacy": "local_only" });
  await chat({ messages: [{ role: "user", content: "Write to jane.doe@example.com about the harvest." }] });
  await chat({ messages: [{ role: "user", content: "Answer in JSON." }], response_format: { type: "json_object" } });
  await untilOutcome("skipped_format", 1);
  const text = await metrics();
  assert.equal(outcome(text, "skipped_local_only"), 1);
  assert.equal(outcome(text, "skipped_redaction"), 1);
  assert.equal(chatCalls().length, before, "the cloud saw none of them");
  assert.ok(!JSON.stringify(cloud.requests.map((r) => r.body)).includes("jane.doe"));
});

test("text answers are compared by embedding; edged eval --tune-router proposes a difficulty threshold from the samples", { timeout: 180_000 }, async () => {
  const prompts = ["And God said, Let there be light", "The LORD is my shepherd", "In the beginning was the Word", "Blessed are the meek"];
  for (const content of prompts) await chat({ messages: [{ role: "user", content }] });
  await untilOutcome("compared", 10);
  const text = await metrics();
  const agreement = Number(new RegExp(`^edged_eval_agreement\\{model="${MODEL}",route="verses",kind="text"\\} (\\S+)$`, "m").exec(text)?.[1]);
  assert.ok(agreement >= 0 && agreement <= 1, `text agreement ${agreement}`);

  const json = join(dir, "tune.json");
  const { stdout } = await exec(process.execPath, [CLI, "eval", "--tune-router", "--data-dir", dataDir, "--config", join(dir, "edged.json"), "--json", json, "--agree-at", "0"], { env: isolatedEnv() });
  assert.match(stdout, /route "verses", difficultyThreshold, over \d+ recorded requests/);
  assert.match(stdout, /current\s+1\.000\s+0\s+\d+\s+1\.000/);
  const report = JSON.parse(await readFile(json, "utf8")) as { samples: number; tunings: { setting: string; samples: number; current: { escalated: number }; proposed?: { escalated: number } }[] };
  assert.equal(report.samples, 10);
  const tuning = report.tunings.find((t) => t.setting === "difficultyThreshold")!;
  // every sample agrees at --agree-at 0: nothing need escalate
  assert.equal(tuning.proposed?.escalated, 0);
  assert.ok(tuning.samples >= 4, "the text and tool requests carry their difficulty");
});
