/** `edged service install|uninstall`: the systemd unit that runs the daemon unattended (see src/service/systemdUnit.ts). */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { systemdUnit } from "../service/systemdUnit.js";
import { UsageError } from "./usage.js";

const USAGE = `usage: edged service install [--user] [--print] [--unit-dir DIR] [--config FILE] [--data-dir DIR] [--host H] [--port P]
       edged service uninstall [--user] [--unit-dir DIR]
  install     writes edged.service (system: /etc/systemd/system; --user: ~/.config/systemd/user) running
              \`edged serve\` with this configuration; --print shows it instead of writing it
  uninstall   removes that file (stop and disable the service first)`;

const UNIT = "edged.service";

function unitDir(user: boolean, override: string | undefined, env: NodeJS.ProcessEnv): string {
  if (override) return resolve(override);
  if (!user) return "/etc/systemd/system";
  return join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), ".config"), "systemd", "user");
}

export async function serviceCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: "boolean", default: false },
      print: { type: "boolean", default: false },
      "unit-dir": { type: "string" },
      config: { type: "string" },
      "data-dir": { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void console.log(USAGE);
  const [command, ...extra] = positionals;
  if (extra.length || (command !== "install" && command !== "uninstall")) throw new UsageError(`expected install or uninstall\n${USAGE}`);
  const systemctl = values.user ? "systemctl --user" : "systemctl";
  const path = join(unitDir(values.user, values["unit-dir"], process.env), UNIT);
  if (command === "uninstall") {
    await rm(path, { force: true });
    return void console.log(`removed ${path}\nthen: ${systemctl} daemon-reload`);
  }

  const configFile = values.config ?? process.env.EDGED_CONFIG;
  const config = await loadConfig({ flags: { config: configFile, dataDir: values["data-dir"], host: values.host, port: values.port } });
  config.dataDir = resolve(config.dataDir);
  const unit = systemdUnit({
    user: values.user,
    node: process.execPath,
    entry: fileURLToPath(new URL("./edged.cjs", import.meta.url)),
    configFile: configFile ? resolve(configFile) : undefined,
    config,
  });
  if (values.print) return void process.stdout.write(unit);
  // the sandbox makes the data directory writable only if it exists when the service starts
  await mkdir(config.dataDir, { recursive: true });
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, unit);
  const name = UNIT.replace(/\.service$/, "");
  console.log(
    [
      `wrote ${path}`,
      `start it now and at every boot:  ${systemctl} daemon-reload && ${systemctl} enable --now ${name}`,
      `follow its log:                  journalctl ${values.user ? "--user-unit" : "-u"} ${name} -f`,
      `reload its configuration:        ${systemctl} reload ${name}`,
    ].join("\n"),
  );
}
