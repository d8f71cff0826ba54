/**
 * A child process that writes memory items to the database named in argv[2] and prints each acknowledged id
 * (after its transaction committed). Used by the concurrent-writer and kill -9 tests.
 */
import { openDatabase } from "../../src/db/open.js";
import { MemoryStore } from "../../src/memory/memoryStore.js";
import { MEMORY_MIGRATIONS } from "../../src/memory/migrations.js";

const [path, countText, label] = process.argv.slice(2);
const store = new MemoryStore(openDatabase(path!, MEMORY_MIGRATIONS));
for (let i = 0; i < Number(countText); i++) {
  const item = store.create({ subject: label!, content: `${label} note ${i}: the patient prefers morning appointments`, actor: label });
  if (i % 3 === 0) store.update(item.id, { content: `${label} note ${i}, revised`, actor: label, reason: "correction" });
  process.stdout.write(`${item.id}\n`);
}
