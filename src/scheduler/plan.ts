/** Places models on an inventory; a model that fits nowhere is reported, not fatal here. */
import type { Llama } from "node-llama-cpp";
import { contextSequences } from "../engines/llama/chatModel.js";
import { llamaFootprint } from "../engines/llama/footprint.js";
import type { Config } from "../config/schema.js";
import type { Inventory } from "../hardware/inventory.js";
import type { ModelEntry } from "../models/entry.js";
import { placeLlama, placeOnnx, PlacementError, type Placement } from "./placement.js";

export type PlanItem = { entry: ModelEntry; placement: Placement } | { entry: ModelEntry; error: string };

export interface PlacementContext {
  inventory: Inventory;
  llama: Llama;
  slots: number;
  /** Of the slots, those in the interactive context (a second context, with its own buffers). */
  interactiveSlots?: number;
  /** Tokens per slot when the configuration sets them; each model's own otherwise. */
  contextSize?: number;
  flashAttention?: boolean;
}

/** The placement a configuration implies: its slots, the interactive ones among them, its context size. */
export function placementContext(config: Pick<Config, "llama" | "queue">, inventory: Inventory, llama: Llama): PlacementContext {
  return { inventory, llama, slots: config.llama.slots, interactiveSlots: config.queue.reservedForInteractive, contextSize: config.llama.contextSize, flashAttention: config.llama.flashAttention };
}

export async function placeModel(entry: ModelEntry, ctx: PlacementContext): Promise<Placement> {
  if (entry.engine === "onnx") return placeOnnx(entry, ctx.inventory);
  const contexts = contextSequences(ctx.slots, ctx.interactiveSlots);
  const footprint = await llamaFootprint(ctx.llama, entry.path, { contextSize: ctx.contextSize ?? entry.contextSize, contexts, flashAttention: ctx.flashAttention ?? false });
  return placeLlama(entry, footprint, ctx.inventory);
}

export async function planModels(entries: readonly ModelEntry[], ctx: PlacementContext): Promise<PlanItem[]> {
  return Promise.all(
    entries.map(async (entry) => {
      try {
        return { entry, placement: await placeModel(entry, ctx) };
      } catch (error) {
        if (error instanceof PlacementError) return { entry, error: error.message };
        throw error;
      }
    }),
  );
}

export function describePlan(items: readonly PlanItem[]): string {
  const width = Math.max(20, ...items.map((i) => i.entry.id.length + 1));
  return items
    .map((item) => {
      if ("error" in item) return `${item.entry.id.padEnd(width)} NOWHERE  ${item.error}`;
      const p = item.placement;
      const where = p.device === "gpu" && p.gpuLayers !== undefined ? `gpu ${p.gpuLayers}L` : p.device;
      return `${item.entry.id.padEnd(width)} ${where.padEnd(8)} ${p.reason}`;
    })
    .join("\n");
}
