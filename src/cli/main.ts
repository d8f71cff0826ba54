/** The `edged` executable: one subcommand per file in this folder. */
import { EX_CONFIG } from "../exitCodes.js";
import { UsageError } from "./usage.js";

const COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<void>>> = {
  serve: async () => (await import("./serve.js")).serveCommand,
  quantize: async () => (await import("./quantize.js")).quantizeCommand,
  models: async () => (await import("./models.js")).modelsCommand,
  pull: async () => (await import("./pull.js")).pullCommand,
  doctor: async () => (await import("./doctor.js")).doctorCommand,
  memory: async () => (await import("./memory.js")).memoryCommand,
  queue: async () => (await import("./queue.js")).queueCommand,
  bench: async () => (await import("./bench.js")).benchCommand,
  service: async () => (await import("./service.js")).serviceCommand,
  eval: async () => (await import("./eval.js")).evalCommand,
  alerts: async () => (await import("./alerts.js")).alertsCommand,
};

const USAGE = `usage: edged <command> [options]
commands: ${Object.keys(COMMANDS).join(", ")}
run \`edged <command> --help\` for a command's options`;

/** An error, or one it was caused by, that says a restart cannot fix it. */
function refusedForGood(error: unknown): boolean {
  for (let e = error as { exitCode?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) if (e.exitCode === EX_CONFIG) return true;
  return false;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`edged: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  try {
    await (await load())(rest);
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`edged ${name}: ${(error as Error).message}`);
    // a refusal a restart cannot fix says so with its own code (EX_CONFIG), which the service unit does not restart on
    return usage ? 2 : refusedForGood(error) ? EX_CONFIG : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
