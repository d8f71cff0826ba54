/**
 * Broken files at startup: a data-directory database that is not a database or was truncated stops the daemon
 * with a message naming the file and how to restore it (exit 78, which the service unit does not restart on:
 * never a crash loop), and the file is left byte for byte as it was; once the good file is back, the daemon
 * starts on it. A data directory on a read-only filesystem is refused the same way, before anything opens.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { copyFile, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { spawn } from "node:child_process";
import { failingServe, isolatedEnv, startDaemon } from "../helpers/daemon.js";
import { CLI, scratchDir } from "../helpers/paths.js";
import { smallDiskUnavailable } from "../helpers/smallDisk.js";

const dataDir = scratchDir("edged-broken-");
const sha = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");

before(async () => {
  // a first run makes every database, with its tables
  const daemon = await startDaemon({ dataDir });
  await daemon.stop();
});

const damages = [
  ["memory.db", "not a database"],
  ["queue.db", "truncated"],
  ["usage.db", "not a database"],
  ["responses.db", "truncated"],
] as const;

for (const [file, damage] of damages) {
  test(`${file}, ${damage}: refused naming the file, left as it was`, async () => {
    const path = join(dataDir, file);
    const good = join(scratchDir(), file);
    await copyFile(path, good);
    if (damage === "truncated") await truncate(path, 8192);
    else await writeFile(path, randomBytes(64 * 1024));
    const before = await sha(path);
    const { code, output } = await failingServe(["--data-dir", dataDir]);
    assert.equal(code, 78, output);
    assert.ok(output.includes(`${path} is damaged`), output);
    assert.match(output, /restore it from a backup/);
    assert.doesNotMatch(output, /\n\s+at /, "a message, not a stack trace");
    assert.equal(await sha(path), before, "the damaged file is not written to");
    await copyFile(good, path);
  });
}

test("with the good files back, the daemon starts on them", async () => {
  const daemon = await startDaemon({ dataDir });
  assert.equal((await fetch(`${daemon.url}/ready`)).status, 200);
  await daemon.stop();
});

test("a data directory on a read-only filesystem is one line and exit 78, with every file as it was", { skip: smallDiskUnavailable() }, async () => {
  const before = await Promise.all(damages.map(([file]) => sha(join(dataDir, file))));
  // the daemon's own mount namespace, where its (populated) data directory is bound read-only
  const child = spawn(
    "unshare",
    ["-rm", "--propagation", "private", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', dataDir, process.execPath, CLI, "serve", "--port", "0", "--data-dir", dataDir],
    { env: isolatedEnv() },
  );
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d));
  child.stderr.on("data", (d: Buffer) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  assert.equal(code, 78, output);
  assert.match(output, new RegExp(`^edged serve: the data directory ${dataDir} cannot be written \\(read-only file system\\).*--data-dir`, "m"));
  assert.equal(output.trim().split("\n").length, 1, output);
  assert.deepEqual(await Promise.all(damages.map(([file]) => sha(join(dataDir, file)))), before);
});
