/**
 * `npm run bench:console`: what the console costs a browser. Its size (every file it loads, raw and gzipped); the
 * overview's first contentful paint and the time until its data is on screen, over `--runs` cold loads in Chromium
 * on loopback; and the long tasks (over 50 ms, Chromium's Long Tasks API) of each live page while the daemon serves
 * `--clients` streaming chats for `--seconds`, with the same page open and idle as the reference.
 */
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { z } from "zod";
import { consoleAssets } from "../src/console/routes.js";
import { fixed, formatTable } from "../src/report/table.js";
import { findChromium, launchChromium } from "./harness/browser.js";
import { startBenchDaemon, type BenchDaemon } from "./harness/daemon.js";
import { benchFlags } from "./harness/flags.js";
import { displayPath, resultsPath } from "./harness/paths.js";
import { reportHeader, writeJson } from "./harness/report.js";
import { percentile } from "./harness/stats.js";
import { streamCompletion } from "./harness/streamClient.js";

const Flags = z.object({
  runs: z.coerce.number().int().min(1).default(20),
  clients: z.coerce.number().int().min(1).default(16),
  seconds: z.coerce.number().positive().default(20),
  json: z.string().default(resultsPath("console", "json")),
});
const progress = (m: string) => process.stderr.write(`bench console: ${m}\n`);
const PAGES = ["overview", "traffic", "cloud"];

function sizes(): { file: string; bytes: number; gzipBytes: number }[] {
  return [...consoleAssets()].map(([name, asset]) => ({ file: name || "index.html", bytes: asset.body.length, gzipBytes: gzipSync(asset.body).length }));
}

/** Cold loads of the overview: first contentful paint, and the moment its readiness line is drawn. */
async function firstPaint(browser: Browser, daemon: BenchDaemon, runs: number): Promise<{ paint: number[]; data: number[] }> {
  const paint: number[] = [];
  const data: number[] = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext(); // nothing cached from the run before
    const page = await context.newPage();
    await page.goto(`${daemon.url}/#/overview`);
    await page.waitForSelector("main .ready");
    const [fcp, ready] = await page.evaluate(() => [performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN, performance.now()]);
    paint.push(fcp!);
    data.push(ready!);
    await context.close();
  }
  return { paint, data };
}

/** Long tasks of a page over `seconds`, with `clients` streaming chats running meanwhile or not. */
async function longTasks(browser: Browser, daemon: BenchDaemon, name: string, clients: number, seconds: number): Promise<{ count: number; maxMs: number; totalMs: number }> {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const seen: number[] = [];
    (globalThis as unknown as { __longTasks: number[] }).__longTasks = seen;
    new PerformanceObserver((list) => list.getEntries().forEach((e) => seen.push(e.duration))).observe({ type: "longtask" as "mark", buffered: true }); // a browser entry type Node's typings do not list
  });
  await page.goto(`${daemon.url}/#/${name}`);
  await page.waitForSelector("main h1");
  await new Promise((r) => setTimeout(r, 1000)); // the page's first load is the paint measurement's business
  await page.evaluate(() => (globalThis as unknown as { __longTasks: number[] }).__longTasks.splice(0));
  const end = performance.now() + seconds * 1000;
  const client = async (i: number) => {
    while (performance.now() < end) await streamCompletion(daemon.baseURL, { model: daemon.models[0], max_tokens: 64, messages: [{ role: "user", content: `Blessed are the meek ${i}` }] }, "chat/completions");
  };
  await Promise.all(clients > 0 ? Array.from({ length: clients }, (_, i) => client(i)) : [new Promise((r) => setTimeout(r, seconds * 1000))]);
  const tasks = await page.evaluate(() => (globalThis as unknown as { __longTasks: number[] }).__longTasks);
  await page.close();
  return { count: tasks.length, maxMs: Math.max(0, ...tasks), totalMs: tasks.reduce((a, b) => a + b, 0) };
}

export async function runConsoleBench(argv: string[]): Promise<void> {
  const flags = benchFlags("console", argv, Flags);
  if (!flags) return;
  const chromium = findChromium();
  if (!chromium) throw new Error("bench console needs Chromium: install the chromium package or set EDGED_CHROMIUM");
  const files = sizes();
  const daemon = await startBenchDaemon([], {}, ".cache/bench-console");
  const browser = await launchChromium(chromium);
  try {
    progress(`${flags.runs} cold loads of the overview`);
    const loads = await firstPaint(browser, daemon, flags.runs);
    const busy: { page: string; load: string; count: number; maxMs: number; totalMs: number }[] = [];
    for (const name of PAGES)
      for (const clients of [0, flags.clients]) {
        progress(`${name}: long tasks over ${flags.seconds} s with ${clients} streaming clients`);
        busy.push({ page: name, load: clients ? `${clients} streaming clients` : "idle daemon", ...(await longTasks(browser, daemon, name, clients, flags.seconds)) });
      }
    const total = { bytes: files.reduce((n, f) => n + f.bytes, 0), gzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0) };
    console.log(`\nThe console's files (${files.length})\n`);
    console.log(
      formatTable(
        [
          { header: "file", value: (f: (typeof files)[number]) => f.file, align: "left" },
          { header: "bytes", value: (f) => String(f.bytes) },
          { header: "gzipped", value: (f) => String(f.gzipBytes) },
        ],
        [...files.sort((a, b) => b.bytes - a.bytes), { file: "total", ...total }],
      ),
    );
    const paint = { p50: percentile(loads.paint, 50), p99: percentile(loads.paint, 99), max: Math.max(...loads.paint) };
    const data = { p50: percentile(loads.data, 50), p99: percentile(loads.data, 99), max: Math.max(...loads.data) };
    console.log(`\nOverview, ${flags.runs} cold loads on loopback (ms from navigation)\n`);
    console.log(
      formatTable(
        [
          { header: "", value: (r: { name: string; s: typeof paint }) => r.name, align: "left" },
          { header: "p50", value: (r) => fixed(r.s.p50, 1) },
          { header: "p99", value: (r) => fixed(r.s.p99, 1) },
          { header: "max", value: (r) => fixed(r.s.max, 1) },
        ],
        [
          { name: "first contentful paint", s: paint },
          { name: "readiness and models drawn", s: data },
        ],
      ),
    );
    console.log(`\nLong tasks (> 50 ms) of each page over ${flags.seconds} s\n`);
    console.log(
      formatTable(
        [
          { header: "page", value: (r: (typeof busy)[number]) => r.page, align: "left" },
          { header: "daemon", value: (r) => r.load, align: "left" },
          { header: "long tasks", value: (r) => String(r.count) },
          { header: "longest ms", value: (r) => fixed(r.maxMs, 0) },
          { header: "total ms", value: (r) => fixed(r.totalMs, 0) },
        ],
        busy,
      ),
    );
    await writeJson(flags.json, { ...reportHeader("console"), flags: { ...flags, json: undefined }, files, total, firstPaintMs: paint, dataDrawnMs: data, longTasks: busy });
    console.log(`\nwrote ${displayPath(flags.json)}`);
  } finally {
    await browser.close();
    await daemon.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runConsoleBench(process.argv.slice(2));
