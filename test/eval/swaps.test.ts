/** Which swaps a change of the default chat model or the routes makes (the eval gate runs once per pair). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { swapsOf } from "../../src/eval/gate.js";
import { RouteConfig } from "../../src/router/schemas.js";

const routes = (...r: object[]) => r.map((x) => RouteConfig.parse(x));
const isLocal = (name: string) => name.startsWith("local-");

test("a new default swaps each route that answers with the default, once per pair of models", () => {
  const before = { defaultChat: "local-a", routes: routes({ model: "gpt-4o", cloud: ["openai"] }, { model: "chat", local: "local-c" }, { model: "local-d" }, { model: "*" }) };
  const after = { ...before, defaultChat: "local-b" };
  assert.deepEqual(swapsOf(before, after, isLocal), [{ from: "local-a", to: "local-b", uses: ["the default chat model", 'route "gpt-4o"'] }]);
});

test("a route's own local model, a route added, and a route that names a local model", () => {
  const before = { defaultChat: "local-a", routes: routes({ model: "chat", local: "local-c" }, { model: "local-d" }) };
  const after = { defaultChat: "local-a", routes: routes({ model: "chat", local: "local-e" }, { model: "local-d" }, { model: "new", local: "local-f" }, { model: "*", local: "local-g" }) };
  assert.deepEqual(swapsOf(before, after, isLocal), [{ from: "local-c", to: "local-e", uses: ['route "chat"'] }]);
  assert.deepEqual(swapsOf(before, before, isLocal), []);
});
