/**
 * kill -9 while the token budget writes usage.db: the file left with its write-ahead log opens (SQLite replays
 * the log, quick_check passes), and no acknowledged write is lost: the stored total is what the child last
 * reported, or one more (a write that committed before its report went out).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { openDatabase } from "../../src/db/open.js";
import { BUDGET_MIGRATIONS } from "../../src/router/budgetMigrations.js";
import { TokenBudget } from "../../src/router/tokenBudget.js";
import { ROOT, scratchDir } from "../helpers/paths.js";

const KILLS = 6;

test("kill -9 during budget writes leaves a usage.db that opens with every acknowledged token", { timeout: 120_000 }, async () => {
  const path = join(scratchDir("edged-budget-crash-"), "usage.db");
  for (let round = 0; round < KILLS; round++) {
    const child = spawn(process.execPath, [join(ROOT, "dist", "test", "router", "budgetCrashWorker.js"), path], { stdio: ["pipe", "pipe", "inherit"] });
    let reported = 0;
    let lines = "";
    child.stdout.on("data", (d: Buffer) => {
      lines += d.toString();
      const all = lines.split("\n");
      lines = all.pop()!;
      if (all.length) reported = Number(all.at(-1));
    });
    const exited = new Promise((resolve) => child.on("close", resolve)); // after its output is read to the end
    // wait for some writes, then kill at a random moment among them
    while (reported < 20 * (round + 1)) {
      assert.equal(child.exitCode, null, "the writer is still running");
      await sleep(2);
    }
    await sleep(Math.random() * 30);
    child.kill("SIGKILL");
    await exited;
    assert.ok(existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0, "the kill left a write-ahead log to replay");

    const db = openDatabase(path, BUDGET_MIGRATIONS); // runs quick_check: a damaged file would throw here
    const stored = new TokenBudget(db).usage("kiosk").day;
    db.close();
    assert.ok(stored === reported || stored === reported + 1, `round ${round}: stored ${stored}, last acknowledged ${reported}`);
  }
});
