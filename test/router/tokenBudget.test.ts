import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { openDatabase } from "../../src/db/open.js";
import { BUDGET_MIGRATIONS } from "../../src/router/budgetMigrations.js";
import { ANONYMOUS_KEY_ID, keyIdOf, TokenBudget, type BudgetCheck, type TokenBudgetOptions } from "../../src/router/tokenBudget.js";
import { scratchDir } from "../helpers/paths.js";

const HOUR = 3_600_000;
const dir = scratchDir();
let n = 0;

/** A budget on a fresh database file, with a clock the test moves; it starts 15 minutes into an hour. */
function fresh(limits: Omit<TokenBudgetOptions, "now"> = {}) {
  const clock = { now: Date.UTC(2025, 2, 10, 9, 15) };
  const path = join(dir, `budget-${n++}.db`);
  const db = openDatabase(path, BUDGET_MIGRATIONS);
  return { path, db, clock, budget: new TokenBudget(db, { ...limits, now: () => clock.now }) };
}

test("the hourly limit refuses what would exceed it until the next clock hour", () => {
  const { budget, clock } = fresh({ perHour: 1000 });
  const key = keyIdOf("sk-live-alpha");
  assert.deepEqual(budget.check(key, 1000), { ok: true });
  budget.record(key, 600);
  budget.record(key, 100);
  assert.deepEqual(budget.usage(key), { hour: 700, day: 700 });
  assert.deepEqual(budget.check(key, 300), { ok: true });
  assert.deepEqual(budget.check(key, 301), { ok: false, window: "hour", limit: 1000, used: 700, retryAfterMs: 45 * 60_000 });
  clock.now += 45 * 60_000 - 1;
  assert.equal(budget.check(key, 301).ok, false, "still the same hour");
  clock.now += 1;
  assert.deepEqual(budget.check(key, 1000), { ok: true }, "a new hour, a new hourly budget");
  assert.deepEqual(budget.usage(key), { hour: 0, day: 700 });
});

test("the daily limit counts the last 24 hourly buckets and opens as the oldest ones leave", () => {
  const { budget, clock } = fresh({ perHour: 800, perDay: 1000 });
  const key = keyIdOf("sk-live-beta");
  const start = clock.now;
  budget.record(key, 500);
  clock.now += 5 * HOUR;
  budget.record(key, 400);
  clock.now += 5 * HOUR;
  assert.deepEqual(budget.usage(key), { hour: 0, day: 900 });
  // 200 more fit once the first bucket (500) has left the day: 24 hours after its hour began
  const firstLeaves = Math.floor(start / HOUR) * HOUR + 24 * HOUR;
  assert.deepEqual(budget.check(key, 200), { ok: false, window: "day", limit: 1000, used: 900, retryAfterMs: firstLeaves - clock.now });
  // 700 more need both buckets gone
  const secondLeaves = firstLeaves + 5 * HOUR;
  assert.deepEqual(budget.check(key, 700), { ok: false, window: "day", limit: 1000, used: 900, retryAfterMs: secondLeaves - clock.now });
  assert.deepEqual(budget.check(key, 100), { ok: true });
  clock.now = firstLeaves - 1;
  assert.equal(budget.check(key, 200).ok, false);
  clock.now = firstLeaves;
  assert.deepEqual(budget.usage(key), { hour: 0, day: 400 });
  assert.deepEqual(budget.check(key, 200), { ok: true });
});

const verdict = (c: BudgetCheck) => (c.ok ? "ok" : c.window);

test("when both windows refuse, the one that stays closed longer is reported", () => {
  const { budget, clock } = fresh({ perHour: 500, perDay: 600 });
  const key = keyIdOf("sk-live-gamma");
  budget.record(key, 450);
  assert.equal(verdict(budget.check(key, 100)), "hour", "only the hour refuses 100");
  assert.deepEqual(budget.check(key, 200), { ok: false, window: "day", limit: 600, used: 450, retryAfterMs: 24 * HOUR - 15 * 60_000 });
  clock.now += HOUR; // a new hour: only the day refuses now
  assert.equal(verdict(budget.check(key, 200)), "day");
  assert.deepEqual(budget.check(key, 150), { ok: true });
});

test("no limits: everything fits, and usage is still counted", () => {
  const { budget } = fresh();
  const key = keyIdOf(undefined);
  budget.record(key, 1_000_000);
  assert.deepEqual(budget.check(key, Number.MAX_SAFE_INTEGER), { ok: true });
  assert.deepEqual(budget.usage(key), { hour: 1_000_000, day: 1_000_000 });
  assert.throws(() => budget.record(key, -1), RangeError);
  assert.throws(() => budget.record(key, 1.5), RangeError);
});

test("keys are counted apart; requests without a key share the anonymous budget", () => {
  const { budget } = fresh({ perHour: 100 });
  const a = keyIdOf("sk-key-a");
  const b = keyIdOf("sk-key-b");
  assert.notEqual(a, b);
  assert.equal(keyIdOf("sk-key-a"), a, "the same key, the same id");
  assert.equal(keyIdOf(undefined), ANONYMOUS_KEY_ID);
  assert.equal(keyIdOf(""), ANONYMOUS_KEY_ID);
  budget.record(a, 100);
  assert.equal(budget.check(a, 1).ok, false);
  assert.deepEqual(budget.check(b, 100), { ok: true });
  assert.deepEqual(budget.check(ANONYMOUS_KEY_ID, 100), { ok: true });
  budget.record(keyIdOf(undefined), 60);
  assert.deepEqual(budget.usage(ANONYMOUS_KEY_ID), { hour: 60, day: 60 });
  assert.deepEqual(budget.usage(b), { hour: 0, day: 0 });
});

test("usage survives closing and reopening the database", () => {
  const { path, db, budget, clock } = fresh({ perHour: 1000 });
  const key = keyIdOf("sk-live-delta");
  budget.record(key, 250);
  clock.now += HOUR;
  budget.record(key, 300);
  db.close();
  const reopened = new TokenBudget(openDatabase(path, BUDGET_MIGRATIONS), { perHour: 1000, now: () => clock.now });
  assert.deepEqual(reopened.usage(key), { hour: 300, day: 550 });
  assert.equal(reopened.check(key, 701).ok, false);
});

test("prune deletes the buckets that have left the day, and only those", () => {
  const { budget, clock } = fresh();
  const key = keyIdOf("sk-live-epsilon");
  budget.record(key, 10);
  clock.now += 23 * HOUR;
  budget.record(key, 20);
  assert.equal(budget.prune(), 0, "the first hour is still the oldest of the day");
  assert.deepEqual(budget.usage(key), { hour: 20, day: 30 });
  clock.now += HOUR;
  budget.record(key, 30);
  assert.equal(budget.prune(), 1);
  assert.equal(budget.prune(), 0);
  assert.deepEqual(budget.usage(key), { hour: 30, day: 50 });
});

test("the raw key never reaches the database files, only its hash", async () => {
  const { path, budget } = fresh({ perHour: 1000 });
  const raw = "sk-proj-Secret0Bearer1Key2That3Must4Not5Be6Stored";
  const key = keyIdOf(raw);
  assert.ok(!key.includes(raw));
  budget.record(key, 123);
  budget.check(key, 10);
  const files = await Promise.all([path, `${path}-wal`].map((file) => readFile(file).catch(() => Buffer.alloc(0))));
  const bytes = Buffer.concat(files);
  assert.ok(bytes.includes(key), "the key's hash is stored, so these are the files written");
  for (const needle of [raw, "Secret0Bearer1Key2", "sk-proj-"]) assert.equal(bytes.indexOf(needle), -1, `"${needle}" found in the database files`);
});

test("usage a full disk refuses is held and counted, then written with the next record that gets through", () => {
  const { budget, db, clock } = fresh({ perHour: 1_000_000 });
  // SQLite's own size limit stands for a full disk: once no page is left, writes fail with SQLITE_FULL
  db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true })}`);
  const keys: string[] = [];
  while (budget.unwrittenTokens === 0) {
    keys.push(keyIdOf(`sk-key-${keys.length}`));
    budget.record(keys.at(-1)!, 7);
  }
  const held = keys.at(-1)!;
  assert.deepEqual(budget.usage(held), { hour: 7, day: 7 }, "held tokens count");
  budget.record(held, 5);
  assert.equal(budget.unwrittenTokens, 12);
  db.pragma("max_page_count = 1073741823");
  budget.record(held, 1);
  assert.equal(budget.unwrittenTokens, 0);
  const reopened = new TokenBudget(db, { now: () => clock.now });
  assert.deepEqual(reopened.usage(held), { hour: 13, day: 13 }, "written once, nothing lost or doubled");
  assert.ok(keys.slice(0, -1).every((k) => reopened.usage(k).hour === 7));
});
