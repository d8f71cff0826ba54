/** The inventory as a person reads it (`edged doctor`). */
import type { Inventory } from "./inventory.js";

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

export function describeInventory(inv: Inventory): string {
  const { cpu } = inv;
  const lines = [
    `platform  ${inv.platform}`,
    `cpu       ${cpu.model}: ${cpu.physicalCores} cores, ${cpu.logicalCores} threads; ${cpu.simd.join(" ") || "no vector extensions found"}`,
    `memory    ${gib(cpu.ramFreeBytes)} available of ${gib(cpu.ramTotalBytes)}`,
  ];
  if (inv.gpus.length === 0) lines.push("gpu       none usable by llama.cpp");
  for (const g of inv.gpus) lines.push(`gpu       ${g.name} (${g.backend}): ${gib(g.vramFreeBytes)} free of ${gib(g.vramTotalBytes)}${g.unifiedMemory ? ", unified memory" : ""}`);
  if (inv.npus.length === 0) lines.push("npu       none found");
  for (const n of inv.npus) {
    const where = [n.driver && `driver ${n.driver}`, n.device, n.onnxProvider ? `onnxruntime provider ${n.onnxProvider}` : "no onnxruntime provider for it in this build"].filter(Boolean);
    lines.push(`npu       ${n.name} [${n.source}]: ${where.join(", ")}`);
  }
  lines.push(`onnx      providers: ${inv.onnxProviders.map((p) => (p.bundled ? p.name : `${p.name} (needs its own libraries)`)).join(", ")}`);
  return lines.join("\n");
}
