/** `edged memory <command>`: the audited memory in the data directory, without a running daemon. */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.js";
import { openDatabase } from "../db/open.js";
import { OnnxEmbedder } from "../engines/onnx/onnxEmbedder.js";
import { MemoryStore } from "../memory/memoryStore.js";
import { MEMORY_MIGRATIONS } from "../memory/migrations.js";
import { loadManifest, type OnnxModelEntry } from "../models/manifest.js";
import { verifyModelFile } from "../models/verify.js";
import { UsageError } from "./usage.js";

const USAGE = `usage: edged memory <command> [--data-dir DIR] [--config FILE]
  verify                                 recompute the audit chain and every version's hash; names the first broken link
  add --subject S [--namespace N] TEXT   remember TEXT
  list [--subject S] [--namespace N]     live items, newest first
  get ID | history ID                    one item, or all its kept versions
  forget ID [--reason R]                 forget for good; prints the receipt
  search QUERY [--subject S] [--mode semantic|keyword|hybrid]`;

/** The default embedding model, for commands that write or search by meaning. */
async function embedder(): Promise<OnnxEmbedder> {
  const manifest = await loadManifest();
  const entry = manifest.models.find((m) => m.id === manifest.defaults.embedding) as OnnxModelEntry | undefined;
  if (!entry) throw new Error("the manifest has no default embedding model");
  return OnnxEmbedder.load((await verifyModelFile(entry)).path, entry);
}

export async function memoryCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "data-dir": { type: "string" },
      config: { type: "string" },
      subject: { type: "string" },
      namespace: { type: "string" },
      reason: { type: "string", default: "" },
      mode: { type: "string", default: "hybrid" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) return void console.log(USAGE);
  const config = await loadConfig({ flags: { config: values.config, dataDir: values["data-dir"] } });
  const store = new MemoryStore(openDatabase(join(config.dataDir, "memory.db"), MEMORY_MIGRATIONS, config.memory.durability), { maxVersions: config.memory.maxVersions });
  const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));
  const one = () => {
    if (args.length !== 1) throw new UsageError(USAGE.split("\n")[0]!);
    return args[0]!;
  };
  switch (command) {
    case "verify": {
      const report = store.verify();
      if (report.ok) return void console.log(`audit chain intact: ${report.entries} entries, head ${report.head?.seq ?? 0} ${report.head?.hash ?? ""}`);
      if (report.firstBroken) throw new Error(`audit chain broken at entry ${report.firstBroken.seq}: ${report.firstBroken.reason}`);
      throw new Error(`content does not match its audited hash: ${report.contentMismatches.map((m) => `${m.itemId} v${m.version}`).join(", ")}`);
    }
    case "add": {
      if (!values.subject || args.length === 0) throw new UsageError("usage: edged memory add --subject S [--namespace N] TEXT");
      const content = args.join(" ");
      const e = await embedder();
      try {
        return print(store.create({ subject: values.subject, namespace: values.namespace, content, actor: "cli", reason: values.reason }, (await e.embed([content]))[0]));
      } finally {
        await e.dispose();
      }
    }
    case "list":
      return print(store.list({ subject: values.subject, namespace: values.namespace, limit: 1000 }));
    case "get":
      return print(store.get(one()));
    case "history":
      return print(store.history(one()));
    case "forget":
      return print(store.forget(one(), "cli", values.reason));
    case "search": {
      const query = args.join(" ");
      if (!query) throw new UsageError("usage: edged memory search QUERY");
      const mode = values.mode as "semantic" | "keyword" | "hybrid";
      const e = mode === "keyword" ? undefined : await embedder();
      try {
        return print(await store.search({ query, mode, subject: values.subject, namespace: values.namespace }, e && (await e.embed([query]))[0]));
      } finally {
        await e?.dispose();
      }
    }
    default:
      throw new UsageError(`unknown memory command "${command}"\n${USAGE}`);
  }
}
