/** Places every model of a manifest on an inventory; a model that fits nowhere is reported, not fatal here. */
import type { Llama } from "node-llama-cpp";
import { llamaFootprint } from "../engines/llama/footprint.js";
import type { Inventory } from "../hardware/inventory.js";
import type { LoadedManifest, ModelEntry } from "../models/manifest.js";
import { placeLlama, placeOnnx, PlacementError, type Placement } from "./placement.js";

export type PlanItem = { entry: ModelEntry; placement: Placement } | { entry: ModelEntry; error: string };

export async function placeModel(entry: ModelEntry, manifest: LoadedManifest, inventory: Inventory, llama: Llama, slots: number): Promise<Placement> {
  if (entry.engine === "onnx") return placeOnnx(entry, inventory);
  const footprint = await llamaFootprint(llama, manifest.pathOf(entry), { contextSize: entry.contextSize, sequences: slots });
  return placeLlama(entry, footprint, inventory);
}

export async function planModels(manifest: LoadedManifest, inventory: Inventory, llama: Llama, slots: number): Promise<PlanItem[]> {
  return Promise.all(
    manifest.models.map(async (entry) => {
      try {
        return { entry, placement: await placeModel(entry, manifest, inventory, llama, slots) };
      } catch (error) {
        if (error instanceof PlacementError) return { entry, error: error.message };
        throw error;
      }
    }),
  );
}

export function describePlan(items: readonly PlanItem[]): string {
  return items
    .map((item) => {
      if ("error" in item) return `${item.entry.id.padEnd(20)} NOWHERE  ${item.error}`;
      const p = item.placement;
      const where = p.device === "gpu" && p.gpuLayers !== undefined ? `gpu ${p.gpuLayers}L` : p.device;
      return `${item.entry.id.padEnd(20)} ${where.padEnd(8)} ${p.reason}`;
    })
    .join("\n");
}
