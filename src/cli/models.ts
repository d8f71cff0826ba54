/**
 * `edged models list|add|rm|show|verify`: the bundled models, the user's own (DATA_DIR/models) and those found in
 * other tools' stores, with where each comes from, what its header says and where it would run.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { llamaRuntime } from "../engines/llama/runtime.js";
import { chooseChatTemplate } from "../engines/llama/chatTemplate.js";
import { probe } from "../hardware/probe.js";
import { liveSources } from "../hardware/sources.js";
import { addModel, removeModel, type AddMode } from "../models/addModel.js";
import type { ModelCatalog } from "../models/catalog.js";
import type { ModelEntry } from "../models/entry.js";
import { openCatalog } from "../models/openCatalog.js";
import { verifyModelFile } from "../models/verify.js";
import { fitCheck } from "../scheduler/fitCheck.js";
import { hashProgress } from "./progress.js";
import { setDefault } from "./setDefault.js";
import { UsageError } from "./usage.js";
import { readGgufFileInfo } from "node-llama-cpp";

const USAGE = `usage: edged models <command> [--data-dir DIR] [--config FILE] [--manifest FILE]
  list                                     every model: bundled, added, and found in Ollama's, Hugging Face's, LM Studio's stores
  add FILE [--id NAME:TAG] [--in-place|--link|--copy] [--template FILE]
                                           register a GGUF (in place by default: nothing is copied)
  rm ID                                    forget a model added to edged (deletes only files edged copied or downloaded)
  show ID                                  its metadata, chat template, where it would run and its memory
  verify [ID]                              read every file (or one) again and check its size and sha256
  set-default ID [--url URL] [--api-key KEY]
                                           make a chat model the default (a running daemon switches at once,
                                           after the eval gate when eval.gate is configured)`;

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

function mode(values: { copy?: boolean; link?: boolean; "in-place"?: boolean }): AddMode {
  const chosen = (["copy", "link", "in-place"] as const).filter((m) => values[m]);
  if (chosen.length > 1) throw new UsageError(`choose one of --copy, --link, --in-place (got ${chosen.map((m) => `--${m}`).join(", ")})`);
  return chosen[0] ?? "in-place";
}

function describeSource(entry: ModelEntry): string {
  return entry.source.kind === "bundled" ? "bundled" : `${entry.source.kind}${entry.source.owned ? " (copy in data dir)" : ""}`;
}

function list(catalog: ModelCatalog, config: Config): void {
  const defaults = new Map([[config.models.chat ?? catalog.defaults.chat, "default chat"], [catalog.defaults.embedding ?? "", "default embedding"]]);
  const width = Math.max(22, ...catalog.entries().map((e) => e.id.length + 1));
  for (const e of catalog.entries()) {
    const note = defaults.get(e.id);
    console.log([e.id.padEnd(width), e.engine.padEnd(6), e.quant.padEnd(8), MiB(e.bytes).padStart(11), describeSource(e).padEnd(22), note ? `(${note})` : ""].join(" ").trimEnd());
  }
  for (const p of catalog.problems) console.log(`not served (${p.source}): ${p.path}: ${p.reason}`);
}

async function show(catalog: ModelCatalog, config: Config, id: string): Promise<void> {
  const entry = catalog.find(id);
  if (!entry) throw new Error(`no model named ${id} (edged models list shows them)`);
  const lines: [string, string][] = [
    ["id", entry.id],
    ["file", entry.path],
    ["size", `${entry.bytes} bytes (${MiB(entry.bytes)})`],
    ["sha256", entry.sha256 ?? "not recorded (hashed on first use)"],
    ["source", `${entry.source.kind}: ${entry.source.detail}`],
    ["engine", entry.engine],
    ["quantization", entry.quant],
  ];
  if (entry.engine === "llama") {
    const g = entry.gguf;
    if (g) lines.push(["architecture", g.architecture], ["parameters", String(g.parameters)], ["layers", String(g.layers)], ["trained context", String(g.trainedContext ?? "unknown")]);
    lines.push(["context per slot", String(config.llama.contextSize ?? entry.contextSize)]);
    const fileInfo = await readGgufFileInfo(entry.path, { sourceType: "filesystem", logWarnings: false, readTensorInfo: false });
    const template = chooseChatTemplate({ fileInfo, filename: entry.path, override: entry.template });
    lines.push(["chat template", `${template.fallback ? "FALLBACK: " : ""}${template.description}`]);
    for (const [key, value] of Object.entries(entry.defaults)) lines.push([`default ${key}`, JSON.stringify(value)]);
  }
  const llama = await llamaRuntime();
  const placement = await fitCheck(config, llama, await probe(liveSources()))(entry).then(
    (p) => `${p.device}${p.gpuLayers ? ` (${p.gpuLayers} layers on the GPU)` : ""}: ${p.reason}; estimated ${MiB(p.estimate.cpuRam)} RAM, ${MiB(p.estimate.gpuVram)} VRAM`,
    (error: Error) => `NOWHERE: ${error.message}`,
  );
  lines.push(["placement", placement]);
  for (const [k, v] of lines) console.log(`${k.padEnd(17)} ${v}`);
}

async function verify(catalog: ModelCatalog, id: string | undefined): Promise<void> {
  const entries = id ? [catalog.find(id) ?? Promise.reject(new Error(`no model named ${id}`))] : catalog.entries();
  let broken = 0;
  for (const e of await Promise.all(entries)) {
    const status = await verifyModelFile(e, { hashes: catalog.user?.hashes, fresh: true, onProgress: e.bytes > 64 * 2 ** 20 ? hashProgress(`hashing ${e.id}`) : undefined }).then(
      () => "ok  ",
      (error: Error) => (broken++, `BAD (${error.message})`),
    );
    console.log(`${status} ${e.id}`);
  }
  if (broken) throw new Error(`${broken} model file(s) missing or not matching their recorded size and sha256`);
}

export async function modelsCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      manifest: { type: "string" },
      config: { type: "string" },
      "data-dir": { type: "string" },
      id: { type: "string" },
      copy: { type: "boolean" },
      link: { type: "boolean" },
      "in-place": { type: "boolean" },
      template: { type: "string" },
      url: { type: "string" },
      "api-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void console.log(USAGE);
  const [action = "list", ...rest] = positionals;
  const arity: Record<string, [number, number]> = { list: [0, 0], add: [1, 1], rm: [1, 1], show: [1, 1], verify: [0, 1], "set-default": [1, 1] };
  const allowed = arity[action];
  if (!allowed || rest.length < allowed[0] || rest.length > allowed[1]) throw new UsageError(USAGE);
  const config = await loadConfig({ flags: { config: values.config, dataDir: values["data-dir"], "models.manifest": values.manifest } });
  const catalog = await openCatalog(config, llamaRuntime);
  switch (action) {
    case "list":
      return list(catalog, config);
    case "show":
      return show(catalog, config, rest[0]!);
    case "verify":
      return verify(catalog, rest[0]);
    case "set-default":
      return setDefault(config, catalog, rest[0]!, { url: values.url, apiKey: values["api-key"] });
    case "rm": {
      const { entry, deleted } = await removeModel(rest[0]!, { catalog, user: catalog.user! });
      return void console.log(`removed ${entry!.id}${deleted ? ` and deleted ${deleted}` : ` (the file ${entry!.path} stays)`}`);
    }
    case "add": {
      const llama = await llamaRuntime();
      const entry = await addModel(
        { file: rest[0]!, id: values.id, mode: mode(values), templateFile: values.template },
        { catalog, user: catalog.user!, llama, place: fitCheck(config, llama, await probe(liveSources())), onHashProgress: hashProgress("hashing") },
      );
      const how = entry.source.owned ? `stored as ${entry.path}` : `in place: ${entry.path}`;
      return void console.log(`added ${entry.id} (${entry.gguf?.architecture}, ${entry.quant}, ${MiB(entry.bytes)}; ${how})`);
    }
  }
}
