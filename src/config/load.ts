/** Builds the configuration from defaults < config file < environment < flags, validated by one schema. */
import { readFile } from "node:fs/promises";
import { EX_CONFIG } from "../exitCodes.js";
import { Config, type ConfigInput } from "./schema.js";

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly exitCode = EX_CONFIG;
}

type Layer = { source: string; values: Record<string, unknown> };

/** Environment variables and the config keys they set. */
const ENV_KEYS: Record<string, string> = {
  EDGED_HOST: "host",
  EDGED_PORT: "port",
  EDGED_DATA_DIR: "dataDir",
  EDGED_MODEL: "models.chat",
  EDGED_THREADS: "llama.threads",
  EDGED_SLOTS: "llama.slots",
  EDGED_API_KEYS: "security.apiKeys",
};
/** Environment values that are comma-separated lists. */
const LIST_KEYS = new Set(["security.apiKeys"]);

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object" && !Array.isArray(b)
      ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

function fromEnv(env: NodeJS.ProcessEnv): Layer {
  const values: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    setPath(values, key, LIST_KEYS.has(key) ? raw.split(",").map((s) => s.trim()).filter(Boolean) : raw);
  }
  return { source: "environment", values };
}

/** Flags are already mapped to config keys (dotted) by the command that parsed them. */
function fromFlags(flags: Record<string, unknown>): Layer {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) setPath(values, key, value);
  return { source: "flags", values };
}

async function fromFile(path: string): Promise<Layer> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    const values = JSON.parse(text) as unknown;
    if (!values || typeof values !== "object" || Array.isArray(values)) throw new Error("the top level must be an object");
    return { source: `config file ${path}`, values: values as Record<string, unknown> };
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Which layer set a key last, to name it in an error. */
function sourceOf(layers: Layer[], path: readonly PropertyKey[]): string {
  for (const layer of [...layers].reverse()) {
    let node: unknown = layer.values;
    for (const key of path) node = node && typeof node === "object" ? (node as Record<string, unknown>)[String(key)] : undefined;
    if (node !== undefined) return layer.source;
  }
  return "defaults";
}

export interface LoadConfigOptions {
  /** Config keys (dotted) from command-line flags; `config` names the file. */
  flags?: Record<string, unknown> & { config?: string };
  env?: NodeJS.ProcessEnv;
}

export async function loadConfig({ flags = {}, env = process.env }: LoadConfigOptions = {}): Promise<Config> {
  const { config: flagFile, ...flagValues } = flags;
  const file = flagFile ?? env.EDGED_CONFIG;
  const layers = [...(file ? [await fromFile(file)] : []), fromEnv(env), fromFlags(flagValues)];
  const merged = layers.reduce<Record<string, unknown>>((acc, layer) => merge(acc, layer.values), {});
  const parsed = Config.safeParse(merged as ConfigInput);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = issue.path.map(String).join(".") || (issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "(root)");
  const what = issue.code === "unrecognized_keys" ? `unknown key ${issue.keys.map((k) => [...issue.path.map(String), k].join(".")).join(", ")}` : `${key}: ${issue.message}`;
  throw new ConfigError(`invalid configuration: ${what} (from ${sourceOf(layers, issue.path)})`);
}
