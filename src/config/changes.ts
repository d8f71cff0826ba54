/**
 * What a configuration reload can change in a running daemon. The guard's keys, hosts and origins, the router's
 * policy and the default chat model apply live; anything else (ports, other model settings, threads, the data
 * directory, cloud providers...) is read once at startup, so a change there is reported as waiting for a restart
 * rather than half applied.
 */
import { isDeepStrictEqual } from "node:util";
import type { Config } from "./schema.js";

/** Settings that apply live, as dotted keys; a section's other keys need a restart. */
const LIVE = new Set(["security.apiKeys", "security.allowedHosts", "security.allowedOrigins", "router.defaultBudgetMs", "router.routes", "router.budgets", "router.offloadWhenBusy", "router.safetyFactor", "router.priors", "eval.gate", "models.chat"]);

/** The settings that differ, as dotted keys: a section's keys, or the top-level key itself when it is not a section. */
export function changedSettings(before: Config, after: Config): string[] {
  const changed: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof Config>) {
    const a = before[key] as unknown;
    const b = after[key] as unknown;
    if (isDeepStrictEqual(a, b)) continue;
    const section = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    if (!section(a) || !section(b)) {
      changed.push(key);
      continue;
    }
    for (const sub of new Set([...Object.keys(a), ...Object.keys(b)])) if (!isDeepStrictEqual(a[sub], b[sub])) changed.push(`${key}.${sub}`);
  }
  return changed;
}

/**
 * Splits the changes into those to apply now and those that wait for a restart. The router's routes name cloud
 * providers, so while `cloud` changes, the router's changes wait for the restart with it.
 */
export function planReload(before: Config, after: Config): { live: string[]; restart: string[] } {
  const changed = changedSettings(before, after);
  const cloudChanged = changed.some((k) => k === "cloud" || k.startsWith("cloud."));
  const live = changed.filter((k) => LIVE.has(k) && !(cloudChanged && k.startsWith("router.")));
  return { live, restart: changed.filter((k) => !live.includes(k)) };
}

/** `base` with the given dotted settings taken from `from`: the configuration a daemon runs on after a reload. */
export function withSettings(base: Config, from: Config, keys: readonly string[]): Config {
  const out = structuredClone(base) as unknown as Record<string, Record<string, unknown>>;
  const source = from as unknown as Record<string, Record<string, unknown>>;
  for (const key of keys) {
    const [section, sub] = key.split(".") as [string, string | undefined];
    if (sub === undefined) out[section] = structuredClone(source[section]!);
    else out[section]![sub] = structuredClone(source[section]![sub]);
  }
  return out as unknown as Config;
}
