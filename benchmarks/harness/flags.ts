/** A benchmark's `--name value` options, read into its zod schema; `--help` lists them with their defaults. */
import { parseArgs } from "node:util";
import type { z } from "zod";

/** The parsed options, or undefined once `--help` has been answered (the benchmark then does nothing). */
export function benchFlags<S extends z.ZodObject>(name: string, argv: string[], schema: S): z.infer<S> | undefined {
  if (argv.includes("--help") || argv.includes("-h")) {
    const defaults = schema.parse({}) as Record<string, unknown>;
    const options = Object.keys(schema.shape).map((key) => `[--${key} ${defaults[key] === undefined ? "VALUE" : String(defaults[key])}]`);
    console.log(`usage: edged bench ${name} ${options.join(" ")}\n(see benchmarks/README.md)`);
    return undefined;
  }
  const { values } = parseArgs({ args: argv, options: Object.fromEntries(Object.keys(schema.shape).map((key) => [key, { type: "string" as const }])) });
  return schema.parse(values);
}
