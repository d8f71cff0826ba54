/** /v1/memory over the real daemon: the whole life of an item, and bad input in OpenAI's error shape. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startDaemon, writeManifest, type RunningDaemon } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

let daemon: RunningDaemon;

before(async () => {
  const dir = scratchDir();
  const path = await writeTinyModel(dir);
  daemon = await startDaemon({ args: ["--manifest", await writeManifest(dir, { id: "tiny:f16", engine: "llama", path, quant: "F16", contextSize: 512 })] });
});
after(async () => {
  await daemon.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${daemon.baseURL}${path}`, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

test("create, get, list, update, history, rollback, search, forget with a receipt, verify", async () => {
  const created = await call("POST", "/memory", { subject: "grace", content: "Allergic to walnuts", metadata: { source: "intake" }, actor: "nurse-app", reason: "intake form" });
  assert.equal(created.status, 201);
  const id = created.json.id as string;
  assert.equal((await call("GET", `/memory/${id}`)).json.content, "Allergic to walnuts");
  assert.deepEqual((await call("GET", "/memory?subject=grace")).json.data.map((i: { id: string }) => i.id), [id]);
  const updated = await call("PATCH", `/memory/${id}`, { content: "Allergic to walnuts and pecans", actor: "doctor-app", reason: "lab result" });
  assert.equal(updated.json.version, 2);
  const history = (await call("GET", `/memory/${id}/history`)).json.data;
  assert.deepEqual(history.map((v: { actor: string }) => v.actor), ["nurse-app", "doctor-app"]);
  const rolled = await call("POST", `/memory/${id}/rollback`, { version: 1, actor: "doctor-app", reason: "wrong patient" });
  assert.equal(rolled.json.content, "Allergic to walnuts");
  assert.equal(rolled.json.version, 3);
  const found = await call("POST", "/memory/search", { query: "walnuts", subject: "grace" });
  assert.equal(found.json.data[0].item.id, id);
  const receipt = (await call("DELETE", `/memory/${id}?actor=grace&reason=erasure`)).json;
  assert.equal(receipt.item_id, id);
  assert.deepEqual((await call("POST", "/memory/receipts/verify", receipt)).json, { ok: true });
  assert.equal((await call("GET", `/memory/${id}`)).status, 404);
  assert.deepEqual((await call("POST", "/memory/search", { query: "walnuts" })).json.data, []);
  const verify = (await call("GET", "/memory/verify")).json;
  assert.equal(verify.ok, true);
  assert.equal(verify.entries, 4);
});

test("bad input: missing fields, empty updates, unknown ids, bad versions", async () => {
  const noSubject = await call("POST", "/memory", { content: "x" });
  assert.equal(noSubject.status, 400);
  assert.equal(noSubject.json.error.param, "subject");
  const id = (await call("POST", "/memory", { subject: "h", content: "y" })).json.id;
  const empty = await call("PATCH", `/memory/${id}`, {});
  assert.equal(empty.status, 400);
  assert.match(empty.json.error.message, /nothing to update/);
  assert.equal((await call("GET", "/memory/mem_nope")).json.error.code, "memory_not_found");
  assert.equal((await call("POST", `/memory/${id}/rollback`, { version: 9 })).status, 404);
  assert.equal((await call("POST", `/memory/${id}/rollback`, { version: "one" })).json.error.param, "version");
  assert.equal((await call("DELETE", "/memory/mem_nope")).status, 404);
  assert.equal((await call("POST", "/memory/search", { query: "" })).json.error.param, "query");
});

test("a chat request can ask for a subject's memories in its system prompt", async () => {
  await call("POST", "/memory", { subject: "jane", content: "Jane keeps bees behind the orchard and sells the honey on Saturdays" });
  const ask = (memory?: object) =>
    call("POST", "/chat/completions", { model: "tiny:f16", messages: [{ role: "user", content: "What does Jane do with the honey?" }], max_tokens: 1, ...(memory ? { memory } : {}) });
  const plain = (await ask()).json.usage.prompt_tokens as number;
  const remembered = (await ask({ subject: "jane", k: 3 })).json.usage.prompt_tokens as number;
  assert.ok(remembered > plain + 10, `memories add prompt tokens: ${plain} -> ${remembered}`);
  const nobody = (await ask({ subject: "nobody-at-all" })).json.usage.prompt_tokens as number;
  assert.equal(nobody, plain, "no memories, no change");
});
