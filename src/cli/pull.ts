/** `edged pull REPO[:QUANT|/FILE]`: a GGUF from a Hugging Face-compatible hub (models.hubUrl; token from HF_TOKEN). */
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { llamaRuntime } from "../engines/llama/runtime.js";
import { probe } from "../hardware/probe.js";
import { liveSources } from "../hardware/sources.js";
import { HubClient } from "../models/hub/hubClient.js";
import { parsePullName, pullModel } from "../models/hub/pull.js";
import { openCatalog } from "../models/openCatalog.js";
import { fitCheck } from "../scheduler/fitCheck.js";
import { hashProgress } from "./progress.js";
import { UsageError } from "./usage.js";

const USAGE = `usage: edged pull ORG/REPO[:QUANT] | ORG/REPO/FILE.gguf [--revision REV] [--data-dir DIR] [--config FILE]
  the quantization defaults to Q4_K_M; the hub is models.hubUrl (https://huggingface.co), the token HF_TOKEN`;

export async function pullCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: "string" }, "data-dir": { type: "string" }, revision: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return void console.log(USAGE);
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const spec = { ...parsePullName(positionals[0]!), revision: values.revision };
  const config = await loadConfig({ flags: { config: values.config, dataDir: values["data-dir"] } });
  const hub = new HubClient({ baseUrl: config.models.hubUrl, token: process.env.HF_TOKEN || undefined });
  try {
    const catalog = await openCatalog(config, llamaRuntime);
    const llama = await llamaRuntime();
    const bars = new Map<string, ReturnType<typeof hashProgress>>();
    const { entry, pulled } = await pullModel(spec, {
      hub,
      catalog,
      user: catalog.user!,
      llama,
      place: fitCheck(config, llama, await probe(liveSources())),
      onEvent: (e) => {
        if (e.phase === "manifest") console.error(`pulling ${e.repo} from ${config.models.hubUrl}`);
        if (e.phase === "download") {
          if (!bars.has(e.file)) bars.set(e.file, hashProgress(`downloading ${e.file}`));
          bars.get(e.file)!(e.done, e.total);
        }
        if (e.phase === "verify") console.error(`verified the sha256 of ${e.file}`);
      },
    });
    console.log(pulled ? `pulled ${entry.id} (${entry.quant}, ${(entry.bytes / 2 ** 20).toFixed(1)} MiB) into ${entry.path}` : `${entry.id} is already pulled (${entry.path})`);
  } finally {
    await hub.close();
  }
}
