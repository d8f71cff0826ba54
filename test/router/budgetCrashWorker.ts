/**
 * A child process that spends cloud tokens in the budget database named in argv[2], one token per durable write,
 * and prints the running total after each write returns. The crash test kills it with SIGKILL at random.
 */
import { openDatabase } from "../../src/db/open.js";
import { BUDGET_MIGRATIONS } from "../../src/router/budgetMigrations.js";
import { TokenBudget } from "../../src/router/tokenBudget.js";

process.stdin.on("end", () => process.exit(4)).resume(); // the test that started this process has ended
const budget = new TokenBudget(openDatabase(process.argv[2]!, BUDGET_MIGRATIONS), { perHour: 1_000_000_000 });
let spent = budget.usage("kiosk").day;
for (;;) {
  budget.record("kiosk", 1);
  process.stdout.write(`${++spent}\n`);
  if (spent % 50 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the kill land between writes too
}
