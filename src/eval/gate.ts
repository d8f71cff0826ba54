/**
 * The eval gate: before a reload swaps a route's local model, the gate suite runs on the new model and on the one
 * it replaces, through the daemon's own API at batch priority (so interactive work goes first), and a model that
 * regresses past the threshold refuses the whole reload, naming the metrics. Both runs are kept in eval.db.
 */
import type { Config } from "../config/schema.js";
import { EvalClient } from "./client.js";
import { compare, type Difference } from "./compare.js";
import { runSuite } from "./runner.js";
import type { EvalStore } from "./store.js";
import { loadSuite } from "./suite.js";

export interface Swap {
  /** The route's requested model name. */
  route: string;
  from: string;
  to: string;
}

/** Routes whose local model (or the default chat model standing in for it) a new configuration changes. */
export function swapsOf(before: Config, after: Config, defaultChat: string): Swap[] {
  const localOf = (config: Config, route: string) => config.router.routes.find((r) => r.model === route)?.local ?? config.models.chat ?? defaultChat;
  return after.router.routes.flatMap((r) => {
    if (!before.router.routes.some((b) => b.model === r.model)) return []; // a new route swaps nothing out
    const from = localOf(before, r.model);
    const to = localOf(after, r.model);
    return from === to ? [] : [{ route: r.model, from, to }];
  });
}

export class GateRefusedError extends Error {
  override name = "GateRefusedError";
}

const describe = (d: Difference) => `${d.name} ${d.delta >= 0 ? "+" : ""}${d.delta.toFixed(3)} (95 % CI ${d.ci[0].toFixed(3)} .. ${d.ci[1].toFixed(3)})`;

/** Runs the gate for each swap; resolves with a line per swap that passed, throws GateRefusedError for the first that did not. */
export async function runGate(gate: NonNullable<Config["eval"]["gate"]>, swaps: readonly Swap[], target: { url: string; apiKey?: string; embeddingModel: string; store: EvalStore }): Promise<string[]> {
  const suite = await loadSuite(gate.suite);
  const client = new EvalClient(target.url, target.apiKey, "batch");
  const run = async (model: string) => (await runSuite(target.store, suite, { client, model, embeddingModel: target.embeddingModel })).runId;
  const passed: string[] = [];
  for (const swap of swaps) {
    const before = await run(swap.from);
    const after = await run(swap.to);
    const differences = compare(target.store.checks(after), target.store.checks(before), gate.threshold);
    const regressed = differences.filter((d) => d.regressed);
    const where = `${swap.to} for route "${swap.route}" (in place of ${swap.from}; runs ${after} and ${before} of ${gate.suite})`;
    if (regressed.length) throw new GateRefusedError(`the eval gate refused ${where}: ${regressed.map(describe).join(", ")} past the threshold ${gate.threshold}`);
    passed.push(`the eval gate passed ${where}`);
  }
  return passed;
}
