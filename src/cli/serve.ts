/** `edged serve`: the daemon, configured by file < environment < flags, stopped cleanly by SIGINT/SIGTERM. */
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { startDaemon } from "../daemon.js";

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
  const config = await loadConfig({
    flags: {
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
    },
  });
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
      daemon.stop().then(() => (log("stopped"), resolve()));
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });

  try {
    await daemon.ready;
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  console.log(`edged ready: ${daemon.models.residents().map((r) => r.entry.id).join(", ")} at ${daemon.url}/v1`);
  await stopped;
}
