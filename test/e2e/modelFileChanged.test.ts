/**
 * A model file deleted or replaced while the daemon has it loaded: what is loaded keeps answering (llama.cpp holds
 * the weights), and the next load verifies the file again and refuses it with a clear reason, which raises the
 * ModelLoadFailed alert.
 */
import assert from "node:assert/strict";
import { appendFile, copyFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Ollama } from "ollama";
import { startDaemon, writeManifest, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";
import { until } from "../helpers/until.js";

const dir = scratchDir();
let daemon: RunningDaemon;
let ollama: Ollama;
const paths: Record<string, string> = {};

before(async () => {
  const drafts = await Promise.all(
    ["base", "replaced", "deleted"].map(async (name) => ({ id: `${name}:f16`, engine: "llama" as const, path: (paths[name] = await writeTinyModel(dir, `${name}.gguf`)), quant: "F16", contextSize: 512 })),
  );
  const config = join(dir, "edged.json");
  await writeFile(config, JSON.stringify({ alerts: { interval: "200ms" } }));
  daemon = await startDaemon({ args: ["--manifest", await writeManifest(dir, drafts[0]!, drafts[1]!, drafts[2]!), "--config", config] });
  ollama = new Ollama({ host: daemon.url });
});
after(() => daemon?.stop());

const loaded = async () => ((await (await fetch(`${daemon.baseURL}/loaded`)).json()) as { models: { id: string }[] }).models.map((m) => m.id);
const complete = (model: string) =>
  fetch(`${daemon.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, prompt: "In the beginning", max_tokens: 2 }) });

/** Unloads the model (keep_alive 0) and waits until it is gone. */
async function unload(model: string) {
  await ollama.generate({ model, prompt: "", keep_alive: 0 });
  await until(`${model} unloaded`, async () => ((await loaded()).includes(model) ? undefined : true));
}

/** An update that writes a new file and renames it over the old one, as package managers and `edged pull` do. */
async function replace(path: string) {
  await copyFile(path, `${path}.new`);
  await appendFile(`${path}.new`, Buffer.alloc(64, 7));
  await rename(`${path}.new`, path);
}

for (const [name, change, reason] of [
  ["replaced", replace, /is \d+ bytes, the manifest says \d+/],
  ["deleted", (path: string) => rm(path), /file not found: /],
] as const) {
  test(`a loaded model whose file is ${name} keeps answering; the next load refuses the file, saying why`, async () => {
    const model = `${name}:f16`;
    await ollama.generate({ model, prompt: "Amen", options: { num_predict: 2 }, keep_alive: "10m" });
    assert.ok((await loaded()).includes(model));
    await change(paths[name]!);

    for (let i = 0; i < 3; i++) assert.equal((await complete(model)).status, 200, "what is loaded still answers");
    await unload(model);
    const refused = await complete(model);
    assert.equal(refused.status, 500);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, "model_load_failed");
    assert.match(error.message, new RegExp(`^model ${model} could not be loaded: .*${name}\\.gguf`));
    assert.match(error.message, reason);
    assert.equal((await complete("base:f16")).status, 200, "the other models are untouched");
  });
}

test("a model that failed to load raises the ModelLoadFailed alert: in /v1/alerts, /metrics and the log", async () => {
  const alerts = async () => (await (await fetch(`${daemon.baseURL}/alerts`)).json()) as { firing: number; alerts: { name: string; state: string; severity: string; value: number | null; summary: string }[] };
  const failed = await until("the alert firing", async () => (await alerts()).alerts.find((a) => a.name === "ModelLoadFailed" && a.state === "firing"));
  assert.equal(failed.severity, "critical");
  assert.ok(failed.value! >= 1);
  assert.match(failed.summary, /^Models that could not be loaded in the last 5 minutes: \d+ \(> 0 for 0s\)$/);
  assert.equal((await alerts()).alerts[0]!.name, "ModelLoadFailed", "firing alerts come first");
  const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
  assert.match(metrics, /^edged_alert_active\{name="ModelLoadFailed",severity="critical"\} 1$/m);
  assert.match(metrics, /^edged_alert_active\{name="SlowRequests",severity="warning"\} 0$/m);
  assert.match(metrics, /^edged_model_load_failures_total\{model="deleted:f16"\} 1$/m);
  const line = daemon.output().split("\n").find((l) => l.includes('"event":"alert"') && l.includes('"state":"firing"'));
  assert.ok(line, daemon.output());
  assert.equal(JSON.parse(line.slice(line.indexOf("{"))).name, "ModelLoadFailed");
});
