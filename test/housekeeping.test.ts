/** Housekeeping: each chore's removals are counted and logged; one that fails is logged and tried at the next run. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Housekeeping } from "../src/housekeeping.js";
import { Counter } from "../src/telemetry/metrics.js";

test("removals are counted by what, failures logged without stopping the other chores", () => {
  const purged = new Counter("edged_purged_total", "");
  const lines: string[] = [];
  let full = true;
  const house = new Housekeeping(
    [
      { what: "offline_jobs", run: () => 3 },
      {
        what: "stored_responses",
        run: () => {
          if (full) throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
          return 2;
        },
      },
      { what: "budget_hours", run: () => 0 },
    ],
    { intervalMs: 60_000, purged, log: (l) => lines.push(l), explain: (e) => new Error(`explained: ${(e as Error).message}`) },
  );
  try {
    assert.deepEqual(house.runAll(), { offline_jobs: 3, budget_hours: 0 });
    assert.deepEqual(lines, ["housekeeping: 3 offline jobs past retention removed", "housekeeping: stored_responses failed: explained: database or disk is full"]);
    full = false;
    assert.deepEqual(house.runAll(), { offline_jobs: 3, stored_responses: 2, budget_hours: 0 });
    assert.equal(purged.get({ what: "offline_jobs" }), 6);
    assert.equal(purged.get({ what: "stored_responses" }), 2);
    assert.equal(purged.get({ what: "budget_hours" }), 0);
  } finally {
    house.stop();
  }
});
