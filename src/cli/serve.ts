/**
 * `edged serve`: the daemon, configured by file < environment < flags, stopped cleanly by SIGINT/SIGTERM, its
 * configuration reloaded by SIGHUP, its readiness told to systemd when it runs as a notify service.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { startDaemon } from "../daemon.js";
import { notifySystemd } from "../service/notify.js";

const USAGE = `usage: edged serve [--host H] [--port P] [--config FILE] [--data-dir DIR] [--manifest FILE] [--model ID]
                   [--threads N] [--slots N] [--api-key KEY]... [--allow-origin URL]... [--allow-host NAME]...`;

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      config: { type: "string" },
      "data-dir": { type: "string" },
      model: { type: "string" },
      manifest: { type: "string" },
      threads: { type: "string" },
      slots: { type: "string" },
      "api-key": { type: "string", multiple: true },
      "allow-origin": { type: "string", multiple: true },
      "allow-host": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void console.log(USAGE);
  const flags = {
    config: values.config,
    host: values.host,
    port: values.port,
    dataDir: values["data-dir"],
    "models.chat": values.model,
    "models.manifest": values.manifest,
    "llama.threads": values.threads,
    "llama.slots": values.slots,
    "security.apiKeys": values["api-key"],
    "security.allowedOrigins": values["allow-origin"],
    "security.allowedHosts": values["allow-host"],
  };
  const config = await loadConfig({ flags });
  const log = (message: string) => console.error(`edged: ${message}`);
  const daemon = await startDaemon(config, log);
  const plan = [daemon.plan.chat, daemon.plan.embedding].filter(Boolean).join(" and ");
  console.log(`edged listening on ${daemon.url} (loading ${plan})`);

  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = (why: string) => {
      if (stopping) {
        log(`${why} again: exiting now`);
        process.exit(130);
      }
      stopping = true;
      log(`${why}: draining requests (up to ${config.shutdownGraceMs} ms)`);
      void notifySystemd(["STOPPING=1"], log);
      daemon.stop().then(() => (log("stopped"), resolve()));
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });
  // SIGHUP reads the configuration again (file, environment, the same flags); a bad one changes nothing. Reloads
  // run one after another: an eval gate may take a while
  let reloading = Promise.resolve();
  const reload = async () => {
    try {
      const { applied, restart, gate } = await daemon.reload(await loadConfig({ flags }));
      for (const line of gate) log(`SIGHUP: ${line}`);
      const now = applied.length ? `applied ${applied.join(", ")}` : "nothing changed that applies while running";
      log(`SIGHUP: configuration reloaded: ${now}${restart.length ? `; waiting for a restart: ${restart.join(", ")}` : ""}`);
    } catch (error) {
      log(`SIGHUP: configuration not reloaded, still running on the previous one: ${(error as Error).message}`);
    }
  };
  process.on("SIGHUP", () => void (reloading = reloading.then(reload)));

  try {
    await daemon.ready;
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  const models = daemon.models.residents().map((r) => r.entry.id).join(", ");
  console.log(`edged ready: ${models} at ${daemon.url}/v1`);
  await notifySystemd(["READY=1", `STATUS=serving ${models} at ${daemon.url}`], log);
  await stopped;
}
