/** Whether a model could be placed at all: run when it is added, so a model too big for any device is refused then. */
import type { Llama } from "node-llama-cpp";
import type { Config } from "../config/schema.js";
import type { Inventory } from "../hardware/inventory.js";
import type { ModelEntry } from "../models/entry.js";
import { placeModel, placementContext } from "./plan.js";
import { PlacementError, type Placement } from "./placement.js";

export function fitCheck(config: Pick<Config, "llama" | "models" | "queue">, llama: Llama, inventory: Inventory): (entry: ModelEntry) => Promise<Placement> {
  return async (entry) => {
    const placement = await placeModel(entry, placementContext(config, inventory, llama));
    const budget = config.models.memoryBudgetMiB;
    const need = placement.estimate.cpuRam + placement.estimate.gpuVram;
    if (budget !== undefined && need > budget * 2 ** 20) {
      throw new PlacementError(`model ${entry.id} fits on no device: it needs ${Math.ceil(need / 2 ** 20)} MiB and the memory budget (models.memoryBudgetMiB) is ${budget} MiB`);
    }
    return placement;
  };
}
