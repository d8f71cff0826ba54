/** Durations as Ollama and the config write them: "5m", "30s", "1h", "250ms", or a number of seconds. */
import { z } from "zod";

export const Duration = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?(ms|s|m|h)?$/, 'must be a duration such as "5m" or a number of seconds')]);
export type Duration = z.infer<typeof Duration>;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export function durationMs(value: Duration): number {
  if (typeof value === "number") return value * 1000;
  const [, amount, unit = "s"] = /^(-?\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value)!;
  return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
}
