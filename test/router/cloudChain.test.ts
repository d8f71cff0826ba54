/** The fallback chain's reports to the connectivity watcher: only a chain that reached no target says the cloud is gone. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CloudError } from "../../src/cloud/errors.js";
import type { ConfiguredProvider } from "../../src/cloud/providers.js";
import type { CloudProvider } from "../../src/cloud/types.js";
import { CloudChainError, firstToAnswer } from "../../src/router/cloudChain.js";

const providers = new Map(["a", "b"].map((id) => [id, { provider: { id } as CloudProvider } as ConfiguredProvider]));
const fail = (kind: "connect" | "status" | "breaker_open") => new CloudError(kind, "a", kind, { beforeFirstByte: true });

async function reports(outcomes: Record<string, "ok" | "connect" | "status" | "breaker_open">): Promise<boolean[]> {
  const seen: boolean[] = [];
  await firstToAnswer(["a", "b"], providers, async (p) => {
    const outcome = outcomes[p.id]!;
    if (outcome !== "ok") throw fail(outcome);
    return p.id;
  }, { onReachable: (r) => seen.push(r) }).catch((e) => assert.ok(e instanceof CloudChainError));
  return seen;
}

test("a provider down while the next answers is a fallback: the cloud stays reachable", async () => {
  assert.deepEqual(await reports({ a: "connect", b: "ok" }), [true]);
});

test("no target reached (refused, or fast-failed by an open breaker): the cloud may be gone", async () => {
  assert.deepEqual(await reports({ a: "connect", b: "connect" }), [false]);
  assert.deepEqual(await reports({ a: "breaker_open", b: "connect" }), [false]);
  // an open breaker alone says nothing about the network
  assert.deepEqual(await reports({ a: "breaker_open", b: "breaker_open" }), []);
});

test("an error answer is an answer: the cloud is reachable", async () => {
  assert.deepEqual(await reports({ a: "status", b: "connect" }), [true]);
});
