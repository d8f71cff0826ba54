/**
 * The eval gate: before a reload or `edged models set-default` swaps the default chat model or a route's local
 * model, the gate suite runs on the new model and on the one it replaces, through the daemon's own API at batch
 * priority (so interactive work goes first), and a model that regresses past the threshold refuses the whole
 * change, naming the metrics. Both runs are kept in eval.db.
 */
import type { Config } from "../config/schema.js";
import type { RouteConfig } from "../router/schemas.js";
import { EvalClient } from "./client.js";
import { compare, type Difference } from "./compare.js";
import { runSuite } from "./runner.js";
import type { EvalStore } from "./store.js";
import { loadSuite } from "./suite.js";

/** One model taking another's place, and what it serves there. */
export interface Swap {
  from: string;
  to: string;
  /** "the default chat model", `route "name"`, ... */
  uses: string[];
}

/** Which local model serves what: the default chat model and the routes. */
export interface LocalModels {
  defaultChat: string;
  routes: readonly RouteConfig[];
}

/** The local model a route answers with; undefined for "*" without one (each local model then answers itself). */
function localOf(models: LocalModels, route: RouteConfig, isLocal: (name: string) => boolean): string | undefined {
  if (route.local) return route.local;
  if (route.model === "*") return undefined;
  return isLocal(route.model) ? route.model : models.defaultChat;
}

/** The swaps a change makes, one per pair of models however many uses it changes; a new route swaps nothing out. */
export function swapsOf(before: LocalModels, after: LocalModels, isLocal: (name: string) => boolean): Swap[] {
  const changes = [
    { use: "the default chat model", from: before.defaultChat, to: after.defaultChat },
    ...after.routes.flatMap((r) => {
      const earlier = before.routes.find((b) => b.model === r.model);
      return earlier ? [{ use: `route "${r.model}"`, from: localOf(before, earlier, isLocal), to: localOf(after, r, isLocal) }] : [];
    }),
  ];
  const swaps = new Map<string, Swap>();
  for (const { use, from, to } of changes) {
    if (from === undefined || to === undefined || from === to) continue;
    const key = JSON.stringify([from, to]);
    const swap = swaps.get(key) ?? { from, to, uses: [] };
    swap.uses.push(use);
    swaps.set(key, swap);
  }
  return [...swaps.values()];
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
    const where = `${swap.to} as ${swap.uses.join(" and ")} (in place of ${swap.from}; runs ${after} and ${before} of ${gate.suite})`;
    if (regressed.length) throw new GateRefusedError(`the eval gate refused ${where}: ${regressed.map(describe).join(", ")} past the threshold ${gate.threshold}`);
    passed.push(`the eval gate passed ${where}`);
  }
  return passed;
}
