/** While a large model is still being verified and loaded, the API answers 503 and /ready says why. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startDaemon, writeManifest } from "../helpers/daemon.js";
import { scratchDir } from "../helpers/paths.js";
import { TINY, writeTinyModel } from "../helpers/syntheticModel.js";

test("requests during model loading get 503 not_ready, then the same request succeeds", async () => {
  const dir = scratchDir();
  // ~100 MB: checking its sha256 and loading it take far longer than one local round trip
  const path = await writeTinyModel(dir, "big.gguf", { ...TINY, embeddingLength: 1024, feedForwardLength: 2816, blockCount: 4, headCount: 8, headCountKv: 8 });
  const manifest = await writeManifest(dir, { id: "big:f16", engine: "llama", path, quant: "F16", contextSize: 512 });
  const daemon = await startDaemon({ args: ["--manifest", manifest], untilListening: true });
  try {
    const body = JSON.stringify({ model: "big:f16", messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
    const send = () => fetch(`${daemon.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const early = await send();
    assert.equal(early.status, 503);
    assert.equal(early.headers.get("retry-after"), "1");
    const error = ((await early.json()) as { error: { code: string; type: string } }).error;
    assert.equal(error.code, "not_ready");
    const ready = await fetch(`${daemon.url}/ready`);
    assert.equal(ready.status, 503);
    assert.match(((await ready.json()) as { reason: string }).reason, /loading/);
    assert.equal((await fetch(`${daemon.url}/health`)).status, 200);
    for (let i = 0; i < 300 && (await fetch(`${daemon.url}/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await send()).status, 200);
  } finally {
    await daemon.stop();
  }
});
