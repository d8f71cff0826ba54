/** `edged alerts export-rules`: the configured alert rules as a Prometheus rules file (stdout, or --out FILE). */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { prometheusRules } from "../alerts/prometheusRules.js";
import { loadConfig } from "../config/load.js";
import { UsageError } from "./usage.js";

const USAGE = `usage: edged alerts export-rules [--config FILE] [--out FILE]
  export-rules  the alert rules (alerts.rules, or the defaults) as a Prometheus rules file; check it with
                \`promtool check rules FILE\``;

export async function alertsCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return void console.log(USAGE);
  if (positionals.length !== 1 || positionals[0] !== "export-rules") throw new UsageError(`expected export-rules\n${USAGE}`);
  const config = await loadConfig({ flags: { config: values.config } });
  const text = prometheusRules(config.alerts.rules);
  if (values.out) await writeFile(values.out, text);
  else process.stdout.write(text);
}
