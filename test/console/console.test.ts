/**
 * The console at / in a real Chromium against the real daemon: served with a strict Content-Security-Policy and
 * nothing from elsewhere; each page fed by the public API; model output and memory content shown as text, never
 * run; a key asked for once and kept for the tab; usable at 360 px, by keyboard, and in the dark. Each page is
 * saved as a screenshot at 1280 and 360 px in .cache/console-screenshots/ (ignored), for a person to look at.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startFakeCloud, type FakeCloud } from "../fakeCloud/fakeCloud.js";
import { chromiumPath, launchBrowser, watchedPage, type PageTrouble } from "./browser.js";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { ROOT, scratchDir } from "../helpers/paths.js";

const MODEL = "edged-kjv:q4_k_m";
const KEY = "console-key-1234";
const XSS = `<img src=x onerror="window.__xss = 'ran'">`;
const SCREENSHOTS = join(ROOT, ".cache", "console-screenshots");
const chromium = chromiumPath();
const skip = chromium ? false : "no Chromium is installed (install the chromium package, or set EDGED_CHROMIUM)";
let cloud: FakeCloud;
let daemon: RunningDaemon;
let browser: Browser;

const configs = scratchDir("edged-console-");
let written = 0;
async function configFile(config: object): Promise<string> {
  const file = join(configs, `edged-${++written}.json`);
  await writeFile(file, JSON.stringify(config));
  return file;
}

before(async () => {
  cloud = await startFakeCloud();
  const config = await configFile({
    cloud: { providers: [{ id: "echo", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake" }] },
    // an offline job is retried soon after the cloud comes back
    offline: { probeInterval: "200ms", retryBaseMs: 50, retryMaxMs: 200 },
    // "cloud-echo" always goes to the fake cloud, which repeats what it was told
    router: { routes: [{ model: "cloud-echo", local: MODEL, cloud: ["echo"], difficultyThreshold: 0 }] },
  });
  daemon = await startDaemon({ args: ["--config", config] });
  if (chromium) browser = await launchBrowser(chromium);
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
  await cloud?.stop();
});

const api = (path: string, init: RequestInit = {}) => fetch(`${daemon.url}${path}`, { ...init, headers: { "content-type": "application/json", ...init.headers } });

/** Opens a page of the console and waits for its heading. */
async function open(name: string, width = 1280): Promise<{ page: Page; trouble: PageTrouble }> {
  const watched = await watchedPage(browser, width);
  await watched.page.goto(`${daemon.url}/#/${name}`);
  await watched.page.waitForSelector("main h1");
  return watched;
}

/** Saves what the page shows now, whole, at its viewport's width. */
async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-${page.viewportSize()!.width}.png`) as `${string}.png`, fullPage: true });
}

const textOf = (page: Page, selector: string) => page.$eval(selector, (e) => (e as HTMLElement).innerText);
const waitForText = (page: Page, selector: string, text: string) =>
  page.waitForFunction(([s, t]) => [...document.querySelectorAll(s!)].some((e) => (e as HTMLElement).innerText.includes(t!)), [selector, text], { timeout: 60_000 });

test("the page and every file it loads come from the daemon, with a strict Content-Security-Policy and no inline script", async () => {
  const page = await fetch(`${daemon.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /^text\/html/);
  const csp = page.headers.get("content-security-policy")!;
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  const html = await page.text();
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, "every script has a src");
  assert.doesNotMatch(html, /\son[a-z]+=/i, "no inline event handlers");
  assert.doesNotMatch(html, /style=/, "no inline styles");
  const files = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]!);
  assert.ok(files.length >= 4, "the page loads its modules, stylesheets and chart library");
  for (const file of files) {
    assert.ok(file.startsWith("/console/"), `${file} is served by the daemon`);
    const asset = await fetch(`${daemon.url}${file}`);
    assert.equal(asset.status, 200, file);
    assert.equal(asset.headers.get("content-security-policy"), csp);
    const again = await fetch(`${daemon.url}${file}`, { headers: { "if-none-match": asset.headers.get("etag")! } });
    assert.equal(again.status, 304, `${file} is cached by its ETag`);
  }
  const missing = await fetch(`${daemon.url}/console/nope.js`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "unknown_url");
});

test("console.enabled: false turns the page off", async () => {
  const off = await startDaemon({ args: ["--config", await configFile({ console: { enabled: false } })] });
  try {
    assert.equal((await fetch(`${off.url}/`)).status, 404);
    assert.equal((await fetch(`${off.url}/console/main.js`)).status, 404);
    assert.equal((await fetch(`${off.url}/v1/models`)).status, 200, "the API is still served");
  } finally {
    await off.stop();
  }
});

test("a page from another origin cannot call the API, and the console's own origin can", async () => {
  const foreign = await api("/v1/memory", { method: "POST", headers: { origin: "http://evil.example" }, body: JSON.stringify({ subject: "s", content: "c" }) });
  assert.equal(foreign.status, 403);
  const own = await api("/v1/memory", { method: "POST", headers: { origin: daemon.url }, body: JSON.stringify({ subject: "s", content: "c" }) });
  assert.equal(own.status, 201);
  assert.equal(own.headers.get("access-control-allow-origin"), null, "same origin needs no CORS header");
});

test("the API the console reads: recent routing records, a job's history, purging finished jobs, benchmark results", async () => {
  await api("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: MODEL, max_tokens: 2, messages: [{ role: "user", content: "And God said" }] }) });
  const recent = (await (await api("/v1/requests?limit=1")).json()) as { data: { at: string; route: string; model: string; actual_ms: number }[] };
  assert.equal(recent.data.length, 1);
  assert.equal(recent.data[0]!.route, "local");
  assert.ok(Date.parse(recent.data[0]!.at) > 0 && recent.data[0]!.actual_ms > 0);
  const bad = await api("/v1/requests?limit=0");
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: { message: string } }).error.message, /limit/);

  const job = (await (await api("/v1/queue", { method: "POST", body: JSON.stringify({ model: "cloud-echo", messages: [{ role: "user", content: "queued hello" }] }) })).json()) as { id: string };
  let status = "";
  for (let i = 0; i < 600 && status !== "done"; i++, await new Promise((r) => setTimeout(r, 50))) status = ((await (await api(`/v1/queue/${job.id}`)).json()) as { status: string }).status;
  assert.equal(status, "done");
  const events = (await (await api(`/v1/queue/${job.id}/events`)).json()) as { data: { event: string }[] };
  assert.deepEqual(
    events.data.map((e) => e.event).filter((e) => e === "enqueued" || e === "done"),
    ["enqueued", "done"],
  );
  assert.equal((await api("/v1/queue/nope/events")).status, 404);
  const refused = await api("/v1/queue?status=queued", { method: "DELETE" });
  assert.equal(refused.status, 400, "only finished jobs are purged");
  assert.match(((await refused.json()) as { error: { message: string } }).error.message, /status/);
  const purge = (await (await api("/v1/queue?status=done", { method: "DELETE" })).json()) as { purged: number };
  assert.ok(purge.purged >= 1);
  assert.equal((await api(`/v1/queue/${job.id}`)).status, 404);

  const spent = (await (await api("/v1/budgets")).json()) as { limits: { per_hour: number | null }; data: { key_id: string; day_tokens: number }[] };
  assert.equal(spent.limits.per_hour, null);
  assert.equal(spent.data.length, 1, "the anonymous caller spent the queued job's tokens");
  assert.equal(spent.data[0]!.key_id, "anonymous");
  assert.ok(spent.data[0]!.day_tokens > 0);

  const quant = await api("/v1/benchmarks/quant");
  assert.equal(quant.status, 200);
  assert.ok(Array.isArray(((await quant.json()) as { llama: unknown[] }).llama));
  assert.match((await api("/v1/benchmarks/quant/chart")).headers.get("content-type")!, /image\/svg\+xml/);
  assert.equal((await api("/v1/benchmarks/soak")).status, 404);
});

test("overview: readiness, the loaded models with their placement, the lanes and the hardware", { skip }, async () => {
  const { page, trouble } = await open("overview");
  await waitForText(page, "main", "Ready: serving requests.");
  const text = await textOf(page, "main");
  assert.match(text, new RegExp(MODEL.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  assert.match(text, /edged-embed/);
  assert.match(text, /pinned/);
  assert.match(text, /Lanes/);
  assert.match(text, /cpu/);
  const hardware = (await (await api("/v1/hardware")).json()) as { cpu: { model: string } };
  assert.ok(text.includes(hardware.cpu.model), "the probe's CPU is shown");
  await screenshot(page, "overview");
  assert.deepEqual(trouble.errors, []);
  await page.close();
});

test("playground: a chat streams from the device with its route, TTFT and decode rate", { skip }, async () => {
  const { page, trouble } = await open("playground");
  await page.waitForFunction(() => (document.getElementById("pg-model") as HTMLInputElement).value !== "");
  await page.$eval("#pg-max-tokens", (e) => ((e as HTMLInputElement).value = "12"));
  // a budget the device meets, so the router keeps the chat on it (the cloud is configured too)
  await page.type("#pg-budget", "60000");
  await page.type("#pg-prompt", "In the beginning God created");
  await page.click("form.playground button[type=submit]");
  await waitForText(page, ".turn.assistant .meta", "TTFT");
  const meta = await textOf(page, ".turn.assistant .meta");
  assert.match(meta, /route: local/);
  assert.match(meta, /route-reason: /);
  assert.match(meta, /TTFT \d/);
  assert.match(meta, /12 tokens/);
  assert.match(meta, /tok\/s/);
  assert.ok((await textOf(page, ".turn.assistant .answer")).trim().length > 0, "the answer is shown");
  // a second turn carries the first in its history
  await page.type("#pg-prompt", "And the earth");
  await page.click("form.playground button[type=submit]");
  await page.waitForFunction(() => [...document.querySelectorAll(".turn.assistant .meta")].filter((e) => e.textContent!.includes("TTFT")).length === 2, undefined, { timeout: 60_000 });
  const last = (await (await api("/v1/requests?limit=1")).json()) as { data: { prompt_tokens: number }[] };
  assert.ok(last.data[0]!.prompt_tokens > 12, "the second request held the whole conversation");
  await screenshot(page, "playground");
  // a response schema: the answer is JSON that holds it
  await page.click("details summary");
  await page.type("#pg-tools", "[not json");
  await page.type("#pg-prompt", "The LORD is my shepherd");
  await page.click("form.playground button[type=submit]");
  await waitForText(page, ".transcript .state.error", "Tools is not JSON");
  await page.$eval("#pg-tools", (e) => ((e as HTMLTextAreaElement).value = ""));
  await page.$eval("#pg-max-tokens", (e) => ((e as HTMLInputElement).value = "200"));
  await page.type("#pg-schema", JSON.stringify({ type: "object", properties: { verse: { type: "string", enum: ["shepherd", "light"] }, chapter: { type: "integer" } }, required: ["verse", "chapter"] }));
  await page.click("form.playground button[type=submit]");
  await page.waitForFunction(() => [...document.querySelectorAll(".turn.assistant .meta")].filter((e) => e.textContent!.includes("TTFT")).length === 3, undefined, { timeout: 60_000 });
  const answers = await page.$$eval(".turn.assistant .answer", (list) => list.map((e) => e.textContent!));
  const parsed = JSON.parse(answers.at(-1)!) as { verse: string; chapter: number };
  assert.ok(["shepherd", "light"].includes(parsed.verse) && Number.isInteger(parsed.chapter));
  assert.match((await page.$$eval(".turn.assistant .meta", (list) => list.map((e) => e.textContent!))).at(-1)!, /finished: stop/);
  await page.$eval("#pg-schema", (e) => ((e as HTMLTextAreaElement).value = ""));
  // a refused request shows the server's own message
  await page.$eval("#pg-model", (e) => ((e as HTMLInputElement).value = "no-such-model"));
  await page.type("#pg-prompt", "Hello");
  await page.click("form.playground button[type=submit]");
  await waitForText(page, ".transcript .state.error", "404");
  assert.match((await page.$$eval(".transcript .state.error", (list) => list.map((e) => e.textContent!))).at(-1)!, /^404: .*no-such-model/);
  assert.deepEqual(trouble.errors, []);
  await page.close();
});

test("model output and memory content are shown as text: markup in them never runs", { skip }, async () => {
  const created = await api("/v1/memory", { method: "POST", body: JSON.stringify({ subject: `<b>${XSS}</b>`, content: `remember ${XSS}` }) });
  assert.equal(created.status, 201);
  const { page, trouble } = await open("memory");
  await waitForText(page, "main table", "remember <img");
  assert.equal(await page.$$eval("main img", (list) => list.length), 0, "no element was made from the content");

  await page.goto(`${daemon.url}/#/playground`);
  await page.waitForSelector("#pg-model");
  await page.$eval("#pg-model", (e) => ((e as HTMLInputElement).value = "cloud-echo"));
  await page.type("#pg-prompt", XSS);
  await page.click("form.playground button[type=submit]");
  await waitForText(page, ".turn.assistant .meta", "TTFT");
  assert.match(await textOf(page, ".turn.assistant .meta"), /route: cloud/);
  assert.match(await textOf(page, ".turn.assistant .answer"), /<img src=x onerror=/, "the fake cloud's echo is shown as typed");
  assert.equal(await page.$$eval("main img", (list) => list.length), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss), undefined, "nothing ran");
  assert.deepEqual(trouble.errors, []);
  await page.close();
});

test("memory: versions with actor and reason, a diff, rollback, forget with a checked receipt, and the chain's head", { skip }, async () => {
  const item = (await (await api("/v1/memory", { method: "POST", body: JSON.stringify({ namespace: "console", subject: "shepherd", content: "The LORD is my shepherd", actor: "tester", reason: "first" }) })).json()) as { id: string };
  await api(`/v1/memory/${item.id}`, { method: "PATCH", body: JSON.stringify({ content: "The LORD is my shepherd I shall not want", actor: "tester", reason: "completed the verse" }) });
  const { page, trouble } = await open("memory");
  await page.type("#mem-query", "shepherd");
  await page.selectOption("#mem-mode", "keyword");
  await page.type("#mem-namespace", "console");
  await page.click("form.search button[type=submit]");
  await waitForText(page, "main table button.link", "shepherd");
  await page.click("main table button.link");
  await waitForText(page, ".item", "completed the verse");
  assert.match(await textOf(page, ".item"), /tester/);
  assert.equal(await page.$eval(".diff ins", (e) => e.textContent), " I shall not want");

  // rollback asks first; Cancel leaves everything as it was
  const rollback = () => page.getByRole("button", { name: "Roll back to v1" });
  await rollback().click();
  await page.getByRole("button", { name: "Cancel", exact: true }).click();
  assert.equal(((await (await api(`/v1/memory/${item.id}`)).json()) as { version: number }).version, 2);
  await rollback().click();
  await page.getByRole("button", { name: "Yes, roll back" }).click();
  await waitForText(page, ".item", "rolled back in the console");
  const rolled = (await (await api(`/v1/memory/${item.id}`)).json()) as { version: number; content: string };
  assert.deepEqual([rolled.version, rolled.content], [3, "The LORD is my shepherd"]);

  await page.getByRole("button", { name: "Forget", exact: true }).click();
  await page.getByRole("button", { name: "Yes, forget", exact: true }).click();
  await waitForText(page, ".receipt", "audit_hash");
  await page.getByRole("button", { name: "Check the receipt", exact: true }).click();
  await waitForText(page, ".receipt .verdict", "The receipt holds");
  assert.equal((await api(`/v1/memory/${item.id}`)).status, 404, "the item is gone");

  await page.getByRole("button", { name: "Verify the audit chain", exact: true }).click();
  await waitForText(page, ".chain", "Head hash");
  const head = ((await (await api("/v1/memory/verify")).json()) as { head: { hash: string } }).head.hash;
  assert.ok((await textOf(page, ".chain")).includes(head), "the head hash shown is the chain's");
  assert.match(await textOf(page, ".chain .verdict"), /The chain holds/);
  await screenshot(page, "memory");
  assert.deepEqual(trouble.errors, []);
  await page.close();
});

test("traffic: latency, token and status charts, routing decisions and the latest requests", { skip }, async () => {
  const { page, trouble } = await open("traffic");
  await page.waitForFunction(() => document.querySelectorAll(".uplot").length === 4);
  for (let i = 0; i < 3; i++) await api("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: MODEL, max_tokens: 4, messages: [{ role: "user", content: `Blessed are ${i}` }] }) });
  await waitForText(page, "main", "Latest requests");
  await waitForText(page, "main table", MODEL);
  const text = await textOf(page, "main");
  assert.match(text, /Routing decisions/);
  assert.match(text, /local\s+\S+/);
  // each chart gets a point once two readings of /metrics are apart
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>("figure.chart")].every((f) => Number(f.dataset.points) >= 2), undefined, { timeout: 60_000 });
  await screenshot(page, "traffic");
  assert.deepEqual(trouble.errors, []);
  await page.close();
});

test("cloud and queue: the provider's breaker and outcomes, an offline job listed until the cloud is back, its history, purge after a confirmation", { skip }, async () => {
  await cloud.goOffline();
  const job = (await (await api("/v1/queue", { method: "POST", body: JSON.stringify({ model: "cloud-echo", messages: [{ role: "user", content: "for the page" }] }) })).json()) as { id: string };
  const { page, trouble } = await open("cloud");
  await waitForText(page, "main table", "echo");
  assert.match(await textOf(page, "main"), /echo\s+closed/);
  await page.selectOption("#queue-status", "queued");
  await waitForText(page, "main table", job.id);
  await waitForText(page, "main", "The cloud is unreachable");
  assert.match(await textOf(page, "main"), /Cloud token budgets[\s\S]*anonymous/);
  await screenshot(page, "cloud");
  await cloud.goOnline();
  await page.selectOption("#queue-status", "done");
  // the row of the done list, not the queued list's row still on screen
  await page.waitForFunction((id) => [...document.querySelectorAll("main tr")].some((tr) => tr.textContent!.includes(id) && tr.textContent!.includes("done")), job.id, { timeout: 60_000 });
  await page.getByRole("button", { name: job.id, exact: true }).click();
  await waitForText(page, ".item", "History");
  assert.match(await textOf(page, ".item"), /enqueued/);
  await page.getByRole("button", { name: "Purge done", exact: true }).click();
  await page.getByRole("button", { name: "Yes, purge done", exact: true }).click();
  await waitForText(page, "main", "Purged");
  assert.equal((await api(`/v1/queue/${job.id}`)).status, 404);
  assert.deepEqual(trouble.errors, []);
  await page.close();
});

test("models: every model with what it can do, and the quantization results with their chart", { skip }, async () => {
  const { page, trouble } = await open("models");
  await waitForText(page, "main table", MODEL);
  await waitForText(page, "main", "Quantization");
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>("img.bench-chart")].some((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 60_000 });
  const text = await textOf(page, "main");
  assert.match(text, /Q4_K_M/);
  assert.match(text, /tools/);
  await screenshot(page, "models");
  assert.deepEqual(trouble.errors, []);
  await page.close();
});

test("with API keys the page asks for one, says when it is refused, and keeps it for the tab", { skip }, async () => {
  const guarded = await startDaemon({ args: ["--config", await configFile({ security: { apiKeys: [KEY] } })] });
  const { page, trouble } = await watchedPage(browser);
  try {
    await page.goto(`${guarded.url}/#/overview`);
    await page.waitForSelector("#key:not([hidden])");
    await page.type("#key-input", "wrong-key-000");
    await page.click("#key button[type=submit]");
    await waitForText(page, "#key label", "refused");
    await page.type("#key-input", KEY);
    await page.click("#key button[type=submit]");
    await waitForText(page, "main", "Ready: serving requests.");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("edged.apiKey")), KEY);
    await page.reload();
    await waitForText(page, "main", "Ready: serving requests.");
    assert.equal(await page.$eval("#key", (e) => getComputedStyle(e).display), "none", "not asked again in this tab");
    assert.deepEqual(trouble.errors, []);
  } finally {
    await page.close();
    await guarded.stop();
  }
});

test("at 360 px nothing overflows, the keyboard reaches every page with a visible focus, and the dark setting is followed", { skip }, async () => {
  const { page, trouble } = await open("overview", 360);
  for (const name of ["overview", "traffic", "playground", "cloud", "memory", "models"]) {
    await page.goto(`${daemon.url}/#/${name}`);
    await page.waitForSelector("main h1");
    await page.waitForFunction(() => !document.querySelector("main .state.loading"), undefined, { timeout: 60_000 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${name} is ${width} px wide at 360`);
    await screenshot(page, name);
  }
  await page.goto(`${daemon.url}/`);
  await page.waitForSelector("main h1");
  assert.equal(await page.$eval("#key", (e) => getComputedStyle(e).display), "none", "no key is asked for where none is configured");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    seen.push(await page.evaluate(() => document.activeElement?.textContent ?? ""));
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.notEqual(outline, "none", `${seen.at(-1)} shows its focus`);
  }
  assert.deepEqual(seen, ["Overview", "Traffic", "Playground", "Cloud and queue", "Memory", "Models"]);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.activeElement?.textContent === "Models and quantization");
  assert.equal(await page.evaluate(() => location.hash), "#/models");

  await page.emulateMedia({ colorScheme: "dark" });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "light" });
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(light, "rgb(255, 255, 255)");
  assert.equal(dark, "rgb(21, 24, 28)");
  assert.deepEqual(trouble.errors, []);
  await page.close();
});
