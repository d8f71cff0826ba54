/** `edged models [list|verify] [--manifest FILE]`: what the manifest offers, and whether each file is intact. */
import { parseArgs } from "node:util";
import { loadManifest, verifyModelFile } from "../models/manifest.js";
import { UsageError } from "./usage.js";

const USAGE = "usage: edged models [list|verify] [--manifest FILE]";

export async function modelsCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { manifest: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return void console.log(USAGE);
  const action = positionals[0] ?? "list";
  if (!["list", "verify"].includes(action) || positionals.length > 1) throw new UsageError(USAGE);
  const manifest = await loadManifest(values.manifest);
  let broken = 0;
  for (const entry of manifest.models) {
    const defaults = [manifest.defaults.chat === entry.id && "default chat", manifest.defaults.embedding === entry.id && "default embedding"].filter(Boolean);
    let status = "";
    if (action === "verify") {
      status = await verifyModelFile(manifest, entry).then(
        () => "ok  ",
        (error: Error) => (broken++, `BAD (${error.message})`),
      );
    }
    const size = `${(entry.bytes / 2 ** 20).toFixed(1)} MiB`;
    console.log([status, entry.id.padEnd(22), entry.engine.padEnd(6), entry.quant.padEnd(8), size.padStart(9), defaults.length ? `(${defaults.join(", ")})` : ""].join(" ").trim());
  }
  if (broken) throw new Error(`${broken} model file(s) missing or not matching the manifest`);
}
