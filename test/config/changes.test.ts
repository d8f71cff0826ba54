/** What a configuration reload applies while running, and what it leaves for a restart. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { changedSettings, planReload, withSettings } from "../../src/config/changes.js";
import { Config } from "../../src/config/schema.js";

const provider = { id: "c", kind: "openai", baseUrl: "http://127.0.0.1:9/v1", model: "m", apiKey: "k" };
const base = Config.parse({ cloud: { providers: [provider] } });

test("changes are named by section and key; keys and the router's policy apply live, the rest waits", () => {
  const next = Config.parse({ cloud: { providers: [provider] }, security: { apiKeys: ["sk-alpha-1"] }, router: { defaultBudgetMs: 80 }, llama: { slots: 2 }, port: 9999 });
  assert.deepEqual(changedSettings(base, next).sort(), ["llama.slots", "port", "router.defaultBudgetMs", "security.apiKeys"]);
  assert.deepEqual(planReload(base, next), { live: ["security.apiKeys", "router.defaultBudgetMs"], restart: ["port", "llama.slots"] });
  assert.deepEqual(planReload(base, base), { live: [], restart: [] });
});

test("while the cloud providers change, the router's changes wait for the restart with them", () => {
  const next = Config.parse({ cloud: { providers: [{ ...provider, id: "d" }] }, router: { routes: [{ model: "x", cloud: ["d"] }] } });
  assert.deepEqual(planReload(base, next), { live: [], restart: ["cloud.providers", "router.routes"] });
});

test("the running configuration takes exactly the applied settings", () => {
  const next = Config.parse({ cloud: { providers: [provider] }, router: { defaultBudgetMs: 80 }, llama: { slots: 2 } });
  const running = withSettings(base, next, ["router.defaultBudgetMs"]);
  assert.equal(running.router.defaultBudgetMs, 80);
  assert.equal(running.llama.slots, base.llama.slots);
  assert.deepEqual(planReload(running, next), { live: [], restart: ["llama.slots"] });
});
