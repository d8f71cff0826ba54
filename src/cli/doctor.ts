/** `edged doctor [--json] [--record FILE]`: what this machine offers edged, probed live. */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { describeInventory } from "../hardware/describe.js";
import { probe } from "../hardware/probe.js";
import { liveSources, recordingSources } from "../hardware/sources.js";

const USAGE = "usage: edged doctor [--json] [--record FILE]";

export async function doctorCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { json: { type: "boolean" }, record: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return void console.log(USAGE);
  const recorder = recordingSources(liveSources(), "recorded with edged doctor --record");
  const inventory = await probe(recorder.sources);
  if (values.record) {
    await writeFile(values.record, JSON.stringify(await recorder.recording(), null, 1) + "\n");
    console.error(`recorded this machine's probe answers in ${values.record}`);
  }
  console.log(values.json ? JSON.stringify(inventory, null, 2) : describeInventory(inventory));
}
