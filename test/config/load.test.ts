import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { CLI, scratchDir } from "../helpers/paths.js";

const dir = scratchDir();
const file = async (name: string, values: unknown) => {
  const path = join(dir, name);
  await writeFile(path, typeof values === "string" ? values : JSON.stringify(values));
  return path;
};

test("defaults: loopback, port 11435, llama.cpp threads measured per model (none configured)", async () => {
  const c = await loadConfig({ env: {} });
  assert.equal(c.host, "127.0.0.1");
  assert.equal(c.port, 11435);
  assert.equal(c.llama.threads, undefined);
  assert.equal((await loadConfig({ env: { EDGED_THREADS: "3" } })).llama.threads, 3);
  assert.equal(c.security.apiKeys.length, 0);
});

test("flags beat the environment, the environment beats the file", async () => {
  const config = await file("layers.json", { host: "127.0.0.2", port: 1000, dataDir: "/from-file", llama: { slots: 3 } });
  const fromFile = await loadConfig({ env: { EDGED_CONFIG: config } });
  assert.deepEqual([fromFile.host, fromFile.port, fromFile.dataDir, fromFile.llama.slots], ["127.0.0.2", 1000, "/from-file", 3]);
  const fromEnv = await loadConfig({ env: { EDGED_CONFIG: config, EDGED_PORT: "2000", EDGED_DATA_DIR: "/from-env" } });
  assert.deepEqual([fromEnv.host, fromEnv.port, fromEnv.dataDir, fromEnv.llama.slots], ["127.0.0.2", 2000, "/from-env", 3]);
  const fromFlags = await loadConfig({ env: { EDGED_CONFIG: config, EDGED_PORT: "2000", EDGED_HOST: "127.0.0.3" }, flags: { port: "3000", dataDir: "/from-flags" } });
  assert.deepEqual([fromFlags.host, fromFlags.port, fromFlags.dataDir], ["127.0.0.3", 3000, "/from-flags"]);
  const otherFile = await file("other.json", { port: 4000 });
  assert.equal((await loadConfig({ env: { EDGED_CONFIG: config }, flags: { config: otherFile } })).port, 4000);
});

test("a bad value is one error naming the key and where it came from", async () => {
  const cases: [Parameters<typeof loadConfig>[0], RegExp][] = [
    [{ env: { EDGED_PORT: "seventy" } }, /port: .*\(from environment\)/],
    [{ env: {}, flags: { port: "70000" } }, /port: .*\(from flags\)/],
    [{ env: { EDGED_CONFIG: await file("bad-slots.json", { llama: { slots: 0 } }) } }, /llama\.slots: .*\(from config file/],
    [{ env: { EDGED_CONFIG: await file("unknown.json", { llama: { thread: 2 } }) } }, /unknown key llama\.thread/],
    [{ env: { EDGED_CONFIG: await file("broken.json", "{ nope") } }, /not valid JSON/],
    [{ env: { EDGED_CONFIG: join(dir, "missing.json") } }, /cannot read config file .*ENOENT/],
    [{ env: {}, flags: { "security.allowedOrigins": ["not a url"] } }, /security\.allowedOrigins\.0/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(loadConfig(options), (e: Error) => e instanceof ConfigError && message.test(e.message) && !e.message.includes("\n"));
  }
});

test("edged serve prints the config error on one line and exits 78 (EX_CONFIG: a restart cannot fix it)", async () => {
  const run = promisify(execFile);
  await assert.rejects(run(process.execPath, [CLI, "serve", "--port", "http"], { env: { ...process.env, EDGED_CONFIG: "" } }), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 78);
    assert.equal(e.stderr.trim().split("\n").length, 1);
    assert.match(e.stderr, /^edged serve: invalid configuration: port: .*\(from flags\)/);
    return true;
  });
});
