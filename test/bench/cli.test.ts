/** `edged bench`: a benchmark answers --help with its options and defaults without running, and refuses an option it does not know. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { CLI } from "../helpers/paths.js";

const run = promisify(execFile);

test("--help describes a benchmark without running it; an unknown option is refused", async () => {
  const help = await run(process.execPath, [CLI, "bench", "peer", "--help"], { timeout: 60_000 });
  assert.match(help.stdout, /^usage: edged bench peer /);
  assert.match(help.stdout, /\[--models bundled,140m,500m\]/);
  assert.match(help.stdout, /\[--rounds 2\]/);
  const bad = await run(process.execPath, [CLI, "bench", "peer", "--bogus", "1"], { timeout: 60_000 }).then(
    () => assert.fail("accepted --bogus"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Unknown option '--bogus'/);
});
