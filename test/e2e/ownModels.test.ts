/**
 * A user's own GGUF files through the CLI and the daemon: added in place (nothing copied), as a link or a copy, shown
 * with its header, template and placement, removed, served by path; and every kind of bad file refused with one
 * line, leaving no entry and no partial file behind.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { copyFile, open, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { promisify } from "node:util";
import OpenAI from "openai";
import { failingServe, isolatedEnv, startDaemon } from "../helpers/daemon.js";
import { writeModel } from "../helpers/modelStores.js";
import { CLI, MODELS, scratchDir } from "../helpers/paths.js";
import { onSmallDisk, smallDiskUnavailable } from "../helpers/smallDisk.js";

const run = promisify(execFile);
const files = scratchDir("edged-own-");
let model: string;
let plain: string;

before(async () => {
  model = await writeModel(join(files, "Tiny-Psalm.F16.gguf"));
  plain = await writeModel(join(files, "plain.gguf"), { template: false });
});

const edged = (dataDir: string, ...args: string[]) => run(process.execPath, [CLI, ...args, "--data-dir", dataDir], { env: isolatedEnv() });
const refused = (dataDir: string, ...args: string[]) =>
  edged(dataDir, ...args).then(
    (r) => assert.fail(`accepted: ${r.stdout}`),
    (e: { code: number; stderr: string }) => e,
  );

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const item of await readdir(dir, { withFileTypes: true, recursive: true })) if (item.isFile()) total += (await stat(join(item.parentPath, item.name))).size;
  return total;
}

test("add in place copies nothing; list, show and rm; the file stays", async () => {
  const data = scratchDir();
  await edged(data, "models", "list");
  const before = await sizeOf(data);
  const { stdout } = await edged(data, "models", "add", model);
  assert.match(stdout, new RegExp(`^added tiny-psalm:f16 \\(llama, F16, [\\d.]+ MiB; in place: ${model}\\)`));
  assert.ok((await sizeOf(data)) - before < 2 ** 20, "the data directory grew by less than 1 MB");
  assert.deepEqual(await readdir(join(data, "models", "blobs")), [], "no copy");
  assert.match((await edged(data, "models", "list")).stdout, /^tiny-psalm:f16 +llama +F16 .* user/m);
  const show = (await edged(data, "models", "show", "tiny-psalm:f16")).stdout;
  for (const line of [/^architecture +llama$/m, /^parameters +\d+$/m, /^layers +2$/m, /^trained context +512$/m, /^chat template +the file's own chat template/m, /^placement +cpu: .*estimated [\d.]+ MiB RAM/m, /^sha256 +[0-9a-f]{64}$/m]) assert.match(show, line);
  assert.match((await edged(data, "models", "rm", "tiny-psalm:f16")).stdout, new RegExp(`^removed tiny-psalm:f16 \\(the file ${model} stays\\)`));
  assert.ok(await stat(model));
  const gone = await refused(data, "models", "show", "tiny-psalm:f16");
  assert.match(gone.stderr, /no model named tiny-psalm:f16/);
});

test("--copy and --link store one content-addressed file; rm deletes only what edged stored", async () => {
  const data = scratchDir();
  await edged(data, "models", "add", model, "--copy", "--id", "psalm:copy");
  await edged(data, "models", "add", model, "--link", "--id", "psalm:link");
  const blobs = await readdir(join(data, "models", "blobs"));
  assert.equal(blobs.length, 1, "one stored file for both names");
  assert.match(blobs[0]!, /^sha256-[0-9a-f]{64}$/);
  const rmCopy = await edged(data, "models", "rm", "psalm:copy");
  assert.match(rmCopy.stdout, /the file .* stays/, "the link still uses it");
  const rmLink = await edged(data, "models", "rm", "psalm:link");
  assert.match(rmLink.stdout, /and deleted .*sha256-[0-9a-f]{64}$/m);
  assert.deepEqual(await readdir(join(data, "models", "blobs")), []);
  assert.ok(await stat(model), "the user's file is untouched");
  const bundled = await refused(data, "models", "rm", "edged-kjv:q4_k_m");
  assert.match(bundled.stderr, /comes from the bundled manifest; edged removes only models it registered/);
});

test("bad files are refused with one line naming the file and the reason, and leave nothing", async () => {
  const data = scratchDir();
  const notGguf = join(files, "notes.gguf");
  await writeFile(notGguf, "And it came to pass, that this is not a model.".repeat(20));
  const truncated = join(files, "cut.gguf");
  await copyFile(model, truncated);
  const handle = await open(truncated, "r+");
  await handle.truncate((await stat(model)).size - 50_000);
  await handle.close();
  const alien = await writeModel(join(files, "alien.gguf"), { architecture: "frobnicator" });
  const cases: [string[], RegExp][] = [
    [[notGguf], /notes\.gguf: not a GGUF file$/],
    [[truncated], /cut\.gguf: truncated: the header describes at least \d+ bytes, the file has \d+$/],
    [[alien], /alien\.gguf: architecture "frobnicator" cannot be loaded by this build of llama\.cpp$/],
    [[join(files, "missing.gguf")], /missing\.gguf: no such file$/],
    [[model, "--id", "Bad Name"], /"Bad Name" is not a model name/],
    [[model, "--copy", "--link"], /choose one of --copy, --link, --in-place/],
  ];
  for (const [args, message] of cases) {
    const e = await refused(data, "models", "add", ...args);
    assert.match(e.stderr.trim(), message, e.stderr);
    assert.equal(e.stderr.trim().split("\n").length, 1, e.stderr);
  }
  await edged(data, "models", "add", model, "--id", "psalm:one");
  const twice = await refused(data, "models", "add", plain, "--id", "psalm:one");
  assert.match(twice.stderr, /a model named psalm:one is already registered/);
  const listed = (await edged(data, "models", "list")).stdout;
  assert.deepEqual(listed.split("\n").filter((l) => / user/.test(l)).map((l) => l.split(/\s+/)[0]), ["psalm:one"]);
  assert.deepEqual(await readdir(join(data, "models", "blobs")), []);
});

test("a model too big for any device is refused at add, with the placement's reason", async () => {
  const data = scratchDir();
  const config = join(files, "small-budget.json");
  await writeFile(config, JSON.stringify({ models: { memoryBudgetMiB: 1 } }));
  const e = await refused(data, "models", "add", model, "--config", config);
  assert.match(e.stderr, /fits on no device: it needs \d+ MiB and the memory budget \(models\.memoryBudgetMiB\) is 1 MiB/);
});

test("a template given on add is used and said; a model without one says which fallback it gets", async () => {
  const data = scratchDir();
  const template = join(files, "chatml.jinja");
  await writeFile(template, "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n");
  await edged(data, "models", "add", plain, "--id", "plain:jinja", "--template", template);
  assert.match((await edged(data, "models", "show", "plain:jinja")).stdout, new RegExp(`^chat template +the Jinja template from ${template}$`, "m"));
  await edged(data, "models", "add", plain, "--id", "plain:bare");
  assert.match((await edged(data, "models", "show", "plain:bare")).stdout, /^chat template +FALLBACK: the file has no chat template; falling back to /m);
  const broken = join(files, "broken.jinja");
  await writeFile(broken, "{% for m in messages %}{{ m.content ");
  const e = await refused(data, "models", "add", plain, "--id", "plain:broken", "--template", broken);
  assert.match(e.stderr, /broken\.jinja: the chat template does not render/);
});

test("serve --model PATH adds the file in place and serves it; a file changed after it was added is refused at load with both hashes", async () => {
  const data = scratchDir();
  const own = await writeModel(join(scratchDir(), "Own-Model.F16.gguf"), { seed: 3 });
  const daemon = await startDaemon({ dataDir: data, args: ["--model", own] });
  try {
    assert.match(daemon.output(), /added own-model:f16 from .*Own-Model\.F16\.gguf \(in place\)/);
    const client = new OpenAI({ baseURL: daemon.baseURL, apiKey: "x", maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "own-model:f16", messages: [{ role: "user", content: "Hello" }], max_tokens: 3 });
    assert.equal(r.model, "own-model:f16");
    assert.equal(r.usage?.completion_tokens, 3);
  } finally {
    await daemon.stop();
  }
  const handle = await open(own, "r+");
  await handle.write(Buffer.from([0x42]), 0, 1, 4096); // same size, other content
  await handle.close();
  const { code, output } = await failingServe(["--data-dir", data, "--model", "own-model:f16"]);
  assert.equal(code, 78);
  assert.match(output, /model own-model:f16 could not be loaded: sha256 of .*Own-Model\.F16\.gguf is [0-9a-f]{64}, its registry entry says [0-9a-f]{64}/);
});

test("serve --model PATH of a file the catalogue already serves uses its entry", async () => {
  const daemon = await startDaemon({ args: ["--model", join(MODELS, "edged-kjv-Q4_K_M.gguf")] });
  try {
    assert.match(daemon.output(), /edged ready: edged-kjv:q4_k_m, /);
    assert.doesNotMatch(daemon.output(), /added /);
  } finally {
    await daemon.stop();
  }
});

/** Runs commands in a private mount namespace with a tmpfs over the data directory; prints what is left there. */
function onOwnFilesystem(data: string, mount: string, script: string): Promise<string> {
  const [file, ...args] = onSmallDisk(1)(data).map((a) => a.replace("size=1m", mount));
  return new Promise((resolve, reject) => {
    const child = spawn(file!, [...args.slice(0, -1), data, "sh", "-c", script], { env: { ...isolatedEnv(), EDGED: CLI, NODE: process.execPath, DATA: data } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    child.on("error", reject);
    child.on("exit", () => resolve(out));
  });
}

test("an unwritable data directory and a full disk are one line each, with nothing half written", { skip: smallDiskUnavailable() }, async () => {
  const data = scratchDir();
  const readOnly = await onOwnFilesystem(data, "ro,size=1m", `"$NODE" "$EDGED" models add "${model}" --data-dir "$DATA"; echo "rc=$?"`);
  assert.match(readOnly, /edged models: cannot write the model store in .*models: read-only file system/);
  assert.match(readOnly, /rc=1/);
  const full = await onOwnFilesystem(data, "size=1m", `"$NODE" "$EDGED" models add "${model}" --copy --data-dir "$DATA"; echo "rc=$?"; echo "left: $(ls -A "$DATA/models/blobs")"; "$NODE" "$EDGED" models list --data-dir "$DATA" | grep -c user`);
  assert.match(full, /edged models: .*Tiny-Psalm\.F16\.gguf: the data directory .* is full/);
  assert.match(full, /rc=1/);
  assert.match(full, /^left: $/m, "no partial copy");
  assert.match(full, /^0$/m, "no entry");
});
