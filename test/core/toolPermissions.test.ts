/** Tool permissions: names per API key, "anonymous" without one, "*" for any; unlisted keys may offer none. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ToolPermissions, ToolPermissionsConfig } from "../../src/core/toolPermissions.js";

const tools = [{ name: "read_psalm" }, { name: "find_verse" }, { name: "delete_all" }];

test("each key offers what it is allowed, the rest is named", () => {
  const p = new ToolPermissions(ToolPermissionsConfig.parse({ allow: { "sk-admin-key": ["*"], "sk-reader-key": ["read_psalm", "find_verse"], anonymous: ["read_psalm"] } }));
  assert.equal(p.policy, "refuse", "refusing is the default");
  assert.deepEqual(p.split("sk-admin-key", tools).denied, []);
  assert.deepEqual(p.split("sk-reader-key", tools), { allowed: tools.slice(0, 2), denied: ["delete_all"] });
  assert.deepEqual(p.split(undefined, tools).denied, ["find_verse", "delete_all"]);
  assert.deepEqual(p.split("sk-unknown-key", tools).allowed, [], "a key not listed may offer none");
});

test("the config is checked: a policy is refuse or remove, and nothing else is accepted", () => {
  assert.equal(ToolPermissionsConfig.parse({ policy: "remove", allow: {} }).policy, "remove");
  assert.throws(() => ToolPermissionsConfig.parse({ policy: "ignore", allow: {} }));
  assert.throws(() => ToolPermissionsConfig.parse({ allow: {}, extra: true }));
});
