/** `edged doctor [--json] [--plan] [--recording FILE] [--record FILE]`: what this machine offers, and where each model would run. */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { llamaRuntime } from "../engines/llama/runtime.js";
import { describeInventory } from "../hardware/describe.js";
import { probe } from "../hardware/probe.js";
import { liveSources, Recording, recordedSources, recordingSources } from "../hardware/sources.js";
import type { ModelCatalog } from "../models/catalog.js";
import { openCatalog } from "../models/openCatalog.js";
import { machineKey } from "../models/threadChoices.js";
import { describePlan, placementContext, planModels, type PlanItem } from "../scheduler/plan.js";
import type { Inventory } from "../hardware/inventory.js";
import type { Llama } from "node-llama-cpp";

const USAGE = `usage: edged doctor [--json] [--plan] [--manifest FILE] [--slots N] [--threads N] [--recording FILE] [--record FILE] [--data-dir DIR] [--config FILE]
  --plan            where each model would run, and why, with the llama.cpp threads measured for it on this machine
  --recording FILE  probe a recorded machine instead of this one (see --record)
  --record FILE     save this machine's probe answers, to replay elsewhere`;

/** Each chat model's remembered thread count on this machine, by id ("measured at first load" when none is yet). */
async function threadsOf(catalog: ModelCatalog, items: readonly PlanItem[], inventory: Inventory, llama: Llama): Promise<Record<string, string>> {
  const user = catalog.user;
  const out: Record<string, string> = {};
  for (const { entry } of items) {
    if (entry.engine !== "llama") continue;
    const sha = entry.sha256 ?? (await user?.hashes.cached(entry.path));
    const choice = sha ? user?.threads.get(sha, machineKey(inventory, llama)) : undefined;
    out[entry.id] = choice ? `${choice.threads} (measured ${new Date(choice.measuredAt).toISOString().slice(0, 10)}: ${JSON.stringify(choice.tokensPerSecond)} tok/s)` : "measured at first load";
  }
  return out;
}

export async function doctorCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: "boolean" },
      plan: { type: "boolean" },
      manifest: { type: "string" },
      slots: { type: "string" },
      threads: { type: "string" },
      recording: { type: "string" },
      record: { type: "string" },
      "data-dir": { type: "string" },
      config: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void console.log(USAGE);
  const recorder = recordingSources(liveSources(), "recorded with edged doctor --record");
  const sources = values.recording ? recordedSources(Recording.parse(JSON.parse(await readFile(values.recording, "utf8")))) : recorder.sources;
  const inventory = await probe(sources);
  if (values.record) {
    await writeFile(values.record, JSON.stringify(await recorder.recording(), null, 1) + "\n");
    console.error(`recorded this machine's probe answers in ${values.record}`);
  }
  if (!values.plan) return void console.log(values.json ? JSON.stringify(inventory, null, 2) : describeInventory(inventory));
  const config = await loadConfig({ flags: { config: values.config, dataDir: values["data-dir"], "models.manifest": values.manifest, "llama.slots": values.slots, "llama.threads": values.threads } });
  const catalog = await openCatalog(config, llamaRuntime);
  const llama = await llamaRuntime();
  const plan = await planModels(catalog.entries(), placementContext(config, inventory, llama));
  const threads = config.llama.threads !== undefined ? Object.fromEntries(plan.map((p) => [p.entry.id, `${config.llama.threads} (configured)`])) : await threadsOf(catalog, plan, inventory, llama);
  if (values.json) return void console.log(JSON.stringify({ inventory, plan, threads }, null, 2));
  console.log(describeInventory(inventory));
  console.log(`\nplacement (${config.llama.slots} slots per chat model):\n${describePlan(plan)}`);
  console.log(`\nllama.cpp threads:\n${Object.entries(threads).map(([id, t]) => `${id.padEnd(24)} ${t}`).join("\n")}`);
}
