/** Thread counts measured for a model on a machine, remembered so that the measurement runs once. */
import type { Llama } from "node-llama-cpp";
import type { Db } from "../db/open.js";
import type { Inventory } from "../hardware/inventory.js";
import type { ThreadMeasurement } from "../engines/llama/threadTuner.js";

export const THREAD_CHOICES_MIGRATION = `
CREATE TABLE thread_choices (
  model TEXT NOT NULL,
  machine TEXT NOT NULL,
  threads INTEGER NOT NULL,
  measured TEXT NOT NULL,
  measured_at INTEGER NOT NULL,
  PRIMARY KEY (model, machine)
) WITHOUT ROWID;`;

/** What makes a measurement on one machine mean nothing on another: its CPU, its cores, the llama.cpp build. */
export const machineKey = (inventory: Inventory, llama: Llama) => `${inventory.cpu.model}|${inventory.cpu.logicalCores}|${llama.gpu || "cpu"}|${llama.buildType}`;

export interface ThreadChoice extends ThreadMeasurement {
  measuredAt: number;
}

export class ThreadChoices {
  private readonly q;

  constructor(db: Db) {
    this.q = {
      get: db.prepare<[string, string], { threads: number; measured: string; measured_at: number }>("SELECT threads, measured, measured_at FROM thread_choices WHERE model = ? AND machine = ?"),
      put: db.prepare<[string, string, number, string, number]>(
        "INSERT INTO thread_choices (model, machine, threads, measured, measured_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, machine) DO UPDATE SET threads = excluded.threads, measured = excluded.measured, measured_at = excluded.measured_at",
      ),
    };
  }

  /** `model` is the file's sha256; `machine` names the CPU, its cores and the llama.cpp build. */
  get(model: string, machine: string): ThreadChoice | undefined {
    const row = this.q.get.get(model, machine);
    return row ? { threads: row.threads, tokensPerSecond: JSON.parse(row.measured) as Record<string, number>, measuredAt: row.measured_at } : undefined;
  }

  put(model: string, machine: string, m: ThreadMeasurement): void {
    this.q.put.run(model, machine, m.threads, JSON.stringify(m.tokensPerSecond), Date.now());
  }
}
