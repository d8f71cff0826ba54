/**
 * Online evaluation with a bigger local model as the reference: it answers through the daemon's own API on the
 * device (local_only, so its own answers are never sampled in turn), output formats are compared as JSON values,
 * and the reference model is loaded beside the served one.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { until } from "../helpers/until.js";

const MODEL = "edged-kjv:q4_k_m";
const REFERENCE = "edged-kjv:f16";
let daemon: RunningDaemon;

before(async () => {
  const config = join(scratchDir("edged-online-local-"), "edged.json");
  await writeFile(config, JSON.stringify({ eval: { online: { sampleRate: 1, reference: REFERENCE, window: 2 } } }));
  daemon = await startDaemon({ args: ["--config", config] });
});
after(async () => {
  await daemon?.stop();
});

const metrics = async () => (await fetch(`${daemon.url}/metrics`)).text();
const outcome = (text: string, name: string) => Number(new RegExp(`^edged_eval_online_samples_total\\{outcome="${name}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);

async function chat(body: object) {
  const res = await fetch(`${daemon.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: MODEL, max_tokens: 12, ...body }) });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

test("a local reference answers text and JSON requests on the device; its own requests are not sampled", { timeout: 120_000 }, async () => {
  await chat({ messages: [{ role: "user", content: "And God said" }] });
  await chat({ messages: [{ role: "user", content: "The LORD is my shepherd" }] });
  await chat({ messages: [{ role: "user", content: "Reply with a JSON object" }], response_format: { type: "json_object" }, max_tokens: 24 });
  const text = await until("three samples compared", async () => {
    const t = await metrics();
    return outcome(t, "compared") >= 3 ? t : undefined;
  }, 60_000, 100);
  // each reference request was local_only: offered, and never sent to a reference itself
  assert.equal(outcome(text, "skipped_local_only"), 3);
  assert.match(text, new RegExp(`^edged_eval_agreement\\{model="${MODEL}",route="${MODEL}",kind="text"\\} [0-9.]+$`, "m"));
  assert.match(text, new RegExp(`^edged_eval_agreement_baseline\\{model="${MODEL}",route="${MODEL}",kind="text"\\} [0-9.]+$`, "m"));
  assert.match(text, new RegExp(`^edged_eval_agreement\\{model="${MODEL}",route="${MODEL}",kind="json"\\} [01]$`, "m"));
  const loaded = (await (await fetch(`${daemon.baseURL}/loaded`)).json()) as { models: { id: string }[] };
  assert.ok(loaded.models.some((m) => m.id === REFERENCE), "the reference is loaded beside the served model");
});

test("a request to the reference model itself is not compared with itself", async () => {
  const before = outcome(await metrics(), "skipped_same_model");
  await chat({ model: REFERENCE, messages: [{ role: "user", content: "In the beginning" }] });
  await until("the sample skipped", async () => (outcome(await metrics(), "skipped_same_model") > before ? true : undefined), 30_000, 100);
});
