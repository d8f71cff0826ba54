/** `edged doctor [--json] [--plan] [--recording FILE] [--record FILE]`: what this machine offers, and where each model would run. */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { llamaRuntime } from "../engines/llama/runtime.js";
import { describeInventory } from "../hardware/describe.js";
import { probe } from "../hardware/probe.js";
import { liveSources, Recording, recordedSources, recordingSources } from "../hardware/sources.js";
import { loadManifest } from "../models/manifest.js";
import { describePlan, planModels } from "../scheduler/plan.js";

const USAGE = `usage: edged doctor [--json] [--plan] [--manifest FILE] [--slots N] [--recording FILE] [--record FILE]
  --plan            where each model of the manifest would run, and why
  --recording FILE  probe a recorded machine instead of this one (see --record)
  --record FILE     save this machine's probe answers, to replay elsewhere`;

export async function doctorCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: "boolean" },
      plan: { type: "boolean" },
      manifest: { type: "string" },
      slots: { type: "string", default: "4" },
      recording: { type: "string" },
      record: { type: "string" },
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
  const plan = values.plan ? await planModels((await loadManifest(values.manifest)).models, { inventory, llama: await llamaRuntime(), slots: Number(values.slots) }) : undefined;
  if (values.json) return void console.log(JSON.stringify(plan ? { inventory, plan } : inventory, null, 2));
  console.log(describeInventory(inventory));
  if (plan) console.log(`\nplacement (${values.slots} slots per chat model):\n${describePlan(plan)}`);
}
