/**
 * Alert webhooks: the receiver is down when the alert fires, so the event waits in webhooks.db and arrives once the
 * receiver is up, retried past a 503, with the configured headers and an idempotency key, each event once.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startDaemon, writeManifest, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";
import { until } from "../helpers/until.js";

const dir = scratchDir();
let daemon: RunningDaemon;
let receiver: Server | undefined;
let port: number;
const received: { headers: IncomingHttpHeaders; body: { name: string; state: string; severity: string } }[] = [];

/** A port nothing listens on yet: taken, then given back. */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => s.once("listening", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  port = await freePort();
  const base = { id: "base:f16", engine: "llama" as const, path: await writeTinyModel(dir, "base.gguf"), quant: "F16", contextSize: 512 };
  const gone = { id: "gone:f16", engine: "llama" as const, path: await writeTinyModel(dir, "gone.gguf"), quant: "F16", contextSize: 512 };
  const manifest = await writeManifest(dir, base, gone);
  await rm(gone.path);
  const config = join(dir, "edged.json");
  await writeFile(
    config,
    JSON.stringify({
      alerts: { interval: "200ms", webhooks: [{ url: `http://127.0.0.1:${port}/hooks/edged`, headers: { authorization: "Bearer hook-secret" } }] },
      offline: { retryBaseMs: 50, retryMaxMs: 300, probeInterval: "200ms" },
    }),
  );
  daemon = await startDaemon({ args: ["--manifest", manifest, "--config", config] });
});
after(async () => {
  await daemon?.stop();
  receiver?.close();
});

test("an alert raised while its receiver is down reaches it once it is up, past a 503, each event once", { timeout: 60_000 }, async () => {
  const res = await fetch(`${daemon.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gone:f16", prompt: "Amen", max_tokens: 2 }) });
  assert.equal(res.status, 500);
  await until("the alert firing", async () => ((await (await fetch(`${daemon.baseURL}/alerts`)).json()) as { firing: number }).firing >= 1 || undefined);
  await sleep(1000); // deliveries fail meanwhile: nothing listens

  let posts = 0;
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d));
    req.on("end", () => {
      if (req.method !== "POST") return void res.writeHead(200).end();
      if (posts++ === 0) return void res.writeHead(503).end(); // the first delivery is refused: it is tried again
      received.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  }).listen(port, "127.0.0.1");

  const firing = await until("the firing event delivered", async () => received.find((r) => r.body.name === "ModelLoadFailed" && r.body.state === "firing"), 30_000);
  assert.equal(firing.body.severity, "critical");
  assert.equal(firing.headers.authorization, "Bearer hook-secret");
  assert.equal(firing.headers["content-type"], "application/json");
  await until("the pending event delivered", async () => received.find((r) => r.body.name === "ModelLoadFailed" && r.body.state === "pending"), 30_000);
  await sleep(500);
  const keys = received.map((r) => r.headers["idempotency-key"]);
  assert.equal(new Set(keys).size, keys.length, `each event once: ${keys.join(", ")}`);
});
