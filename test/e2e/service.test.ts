/**
 * Running as a service: `edged service install` writes a systemd unit that systemd's own checker accepts (and the
 * checker is shown to refuse a broken one), with the sandbox, restart policy and memory limits the configuration
 * asks for; the daemon tells a notify socket when it is ready and when it stops; a refusal that a restart cannot
 * fix exits 78, which the unit does not restart on.
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { failingServe, startDaemon } from "../helpers/daemon.js";
import { CLI, scratchDir } from "../helpers/paths.js";
import { until } from "../helpers/until.js";

const run = promisify(execFile);
const edged = (...args: string[]) => run(process.execPath, [CLI, ...args], { env: { ...process.env, EDGED_CONFIG: "" } });
const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

async function configWith(settings: object): Promise<string> {
  const file = join(scratchDir(), "edged.json");
  await writeFile(file, JSON.stringify(settings));
  return file;
}

/** systemd's own check of a unit file; user units need a runtime directory to be checked in. */
function verify(unit: string, user: boolean): { status: number | null; output: string } {
  const runtime = scratchDir("edged-runtime-");
  const r = spawnSync("systemd-analyze", [...(user ? ["--user"] : []), "verify", unit], { encoding: "utf8", env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test("service install writes a unit with the sandbox, restart policy and memory limits, and systemd accepts it", async (t) => {
  const data = join(scratchDir(), "data dir");
  const config = await configWith({ port: 11999, models: { memoryBudgetMiB: 2048 }, shutdownGraceMs: 5000 });
  const units = scratchDir("edged-units-");
  const { stdout } = await edged("service", "install", "--unit-dir", units, "--config", config, "--data-dir", data);
  const path = join(units, "edged.service");
  assert.match(stdout, new RegExp(`wrote ${path}\\n`));
  assert.match(stdout, /systemctl daemon-reload && systemctl enable --now edged/);
  assert.ok(existsSync(data), "the data directory exists before the sandbox needs it");
  const unit = await readFile(path, "utf8");
  for (const line of [
    "Type=notify",
    "Restart=on-failure",
    "RestartPreventExitStatus=78",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    `ReadWritePaths="${data}"`,
    "ExecReload=/bin/kill -HUP $MAINPID",
    "TimeoutStopSec=15s",
    "MemoryHigh=2560M",
    "MemoryMax=3200M",
    "WantedBy=multi-user.target",
  ]) assert.ok(unit.split("\n").includes(line), `${line} in\n${unit}`);
  assert.match(unit, new RegExp(`^ExecStart=${process.execPath} \\S+edged\\.cjs serve --host 127\\.0\\.0\\.1 --port 11999 --data-dir "${data}" --config ${config}$`, "m"));

  const userUnit = (await edged("service", "install", "--user", "--print", "--config", await configWith({ service: { memoryMax: "1G" } }))).stdout;
  assert.match(userUnit, /^WantedBy=default\.target$/m);
  assert.match(userUnit, /^MemoryMax=1G$/m);
  assert.doesNotMatch(userUnit, /^MemoryHigh=/m);

  await edged("service", "uninstall", "--unit-dir", units);
  assert.ok(!existsSync(path));
  await assert.rejects(edged("service", "start"), (e: { code: number; stderr: string }) => e.code === 2 && /expected install or uninstall/.test(e.stderr));
  await assert.rejects(edged("service", "install", "--print", "--config", await configWith({ service: { memoryMax: "lots" } })), (e: { code: number; stderr: string }) => e.code === 78 && /service\.memoryMax: must be a size/.test(e.stderr));

  if (!has("systemd-analyze")) return t.skip("systemd-analyze is not installed: the units were not checked by systemd");
  for (const [name, text, user] of [["system", unit, false], ["user", userUnit, true]] as const) {
    const file = join(scratchDir(), "edged.service");
    await writeFile(file, text);
    const checked = verify(file, user);
    assert.equal(checked.status, 0, `${name} unit: ${checked.output}`);
  }
  // the checker is not a rubber stamp: the same unit with a missing executable is refused
  const broken = join(scratchDir(), "edged.service");
  await writeFile(broken, unit.replace(/^ExecStart=\S+/m, "ExecStart=/nonexistent/node"));
  assert.notEqual(verify(broken, false).status, 0);
});

test("the daemon tells a notify socket READY=1 once its models are loaded, and STOPPING=1 when it stops", async (t) => {
  if (!has("systemd-notify") || !has("python3")) return t.skip("systemd-notify or python3 is not installed");
  const dir = scratchDir("edged-notify-");
  const socket = join(dir, "notify");
  // a datagram listener standing in for systemd: prints each message on a line
  const listener = spawn("python3", ["-u", "-c", "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('bound',flush=True)\nwhile True:\n  print(s.recv(4096).decode().replace('\\n',' '),flush=True)", socket]);
  t.after(() => listener.kill());
  let heard = "";
  listener.stdout.on("data", (d: Buffer) => (heard += d.toString()));
  await until("the listener", async () => (heard.includes("bound") ? true : undefined));
  const daemon = await startDaemon({ env: { NOTIFY_SOCKET: socket } });
  const ready = await until("READY=1", async () => heard.split("\n").find((l) => l.includes("READY=1")));
  assert.match(ready, new RegExp(`MAINPID=${daemon.proc.pid}`));
  assert.match(ready, /STATUS=serving edged-kjv:q4_k_m, edged-embed:q4 at http:\/\/127\.0\.0\.1:\d+/);
  assert.equal((await daemon.stop()).code, 0);
  await until("STOPPING=1", async () => (heard.includes("STOPPING=1") ? true : undefined));
});

test("a bad configuration stops the daemon with exit 78, which the unit does not restart on", async () => {
  const { code, output } = await failingServe(["--config", await configWith({ router: { defaultBudgetMs: "soon" } })]);
  assert.equal(code, 78, output);
  assert.match(output, /invalid configuration: router\.defaultBudgetMs/);
  const dir = join(scratchDir(), "nested");
  await mkdir(dir);
  assert.equal((await failingServe(["--config", join(dir, "missing.json")])).code, 78);
});
