/** The signals' readings of the last evaluations, kept as long as the longest window a rule looks back over. */
import type { Reading, SignalName } from "./signals.js";

export interface Snapshot {
  at: number;
  readings: Partial<Record<SignalName, Reading>>;
}

export class SampleHistory {
  private readonly snapshots: Snapshot[] = [];

  constructor(private readonly keepMs: number) {}

  push(at: number, readings: Snapshot["readings"]): void {
    this.snapshots.push({ at, readings });
    while (this.snapshots.length > 2 && this.snapshots[1]!.at <= at - this.keepMs) this.snapshots.shift();
  }

  get latest(): Snapshot | undefined {
    return this.snapshots.at(-1);
  }

  /** The oldest snapshot still within `windowMs` of the latest (the latest itself when it is the only one). */
  since(windowMs: number): Snapshot | undefined {
    const latest = this.latest;
    if (!latest) return undefined;
    return this.snapshots.find((s) => s.at >= latest.at - windowMs) ?? latest;
  }
}
