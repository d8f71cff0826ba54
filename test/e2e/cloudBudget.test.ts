/** Cloud token budgets per API key, persisted in SQLite: over budget the device answers, or the request is refused. */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { everyRequestToTheCloud } from "../helpers/fakeProviders.js";
import { startFakeCloud, type FakeCloud } from "../fakeCloud/fakeCloud.js";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";

const MODEL = "edged-kjv:q4_k_m";
const KEYS = { alpha: "key-alpha-123", bravo: "key-bravo-456" };
let cloud: FakeCloud;
let daemon: RunningDaemon;
let config: string;

before(async () => {
  cloud = await startFakeCloud();
  config = join(scratchDir(), "edged.json");
  await writeFile(
    config,
    JSON.stringify({
      security: { apiKeys: Object.values(KEYS) },
      cloud: { providers: [{ id: "cloud", kind: "openai", baseUrl: cloud.openaiBaseUrl, model: "gpt-fake" }] },
      router: everyRequestToTheCloud(
        [
          { model: "strict", local: MODEL, cloud: ["cloud"], overBudget: "reject" },
          { model: "*", cloud: ["cloud"] },
        ],
        { budgets: { perKeyHourTokens: 500 } },
      ),
    }),
  );
  daemon = await startDaemon({ args: ["--config", config] });
});

after(async () => {
  await daemon?.stop();
  await cloud?.stop();
});

/** Sixty words the fake echoes back: each cloud call spends about 60 prompt and 63 completion tokens. */
const PSALM = Array.from({ length: 60 }, (_, i) => (i % 2 ? "praise" : "sing")).join(" ");

/** The request wants the cloud (every route sends everything there); its estimate (prompt + 100) is checked against the budget. */
async function ask(key: string, model = MODEL) {
  const res = await fetch(`${daemon.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, max_tokens: 100, messages: [{ role: "user", content: PSALM }] }),
  });
  return { status: res.status, route: res.headers.get("x-edged-route"), reason: res.headers.get("x-edged-route-reason"), body: (await res.json()) as Record<string, any> };
}

/** Asks until the device answers; returns how many answers came from the cloud before. */
async function cloudAnswersUntilLocal(key: string): Promise<{ clouds: number; last: Awaited<ReturnType<typeof ask>> }> {
  for (let clouds = 0; clouds < 10; clouds++) {
    const last = await ask(key);
    assert.equal(last.status, 200);
    if (last.route === "local") return { clouds, last };
    assert.equal(last.route, "cloud");
  }
  throw new Error("the budget never ran out");
}

test("each key spends its own hourly cloud budget; past it the device answers, or a strict route refuses with 429", async () => {
  // 123 tokens per answer against 500: the 4th estimate (369 spent + about 100 prompt + 100) is over
  const alpha = await cloudAnswersUntilLocal(KEYS.alpha);
  assert.equal(alpha.clouds, 3);
  assert.match(alpha.last.reason!, /^cloud_budget_exhausted: .*the hourly cloud token budget of 500 is used up/);
  assert.equal(alpha.last.body.model, MODEL);
  const strict = await ask(KEYS.alpha, "strict");
  assert.equal(strict.status, 429);
  assert.equal(strict.body.error.code, "cloud_budget_exceeded");
  assert.equal((await ask(KEYS.bravo)).route, "cloud", "another key has its own budget");
  assert.equal(cloud.requests.length, 4);
  // what the cloud answers spent is counted for the TokenBurn alert: about 123 tokens each
  const metrics = await (await fetch(`${daemon.url}/metrics`, { headers: { authorization: `Bearer ${KEYS.alpha}` } })).text();
  const spent = Number(/^edged_cloud_tokens_total\{via="direct"\} (\d+)$/m.exec(metrics)?.[1]);
  assert.ok(spent >= 4 * 100 && spent <= 4 * 150, metrics);
});

test("the spent budget survives a restart (usage.db), and local answers never count against it", async () => {
  await daemon.stop();
  daemon = await startDaemon({ args: ["--config", config], dataDir: daemon.dataDir });
  assert.equal((await ask(KEYS.alpha)).route, "local");
  assert.equal((await cloudAnswersUntilLocal(KEYS.bravo)).clouds, 2, "bravo spent one answer's tokens before the restart");
});
