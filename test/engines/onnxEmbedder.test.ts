/** The bundled ONNX embedders on onnxruntime-node: the 4-bit file agrees with fp32, and both beat random pairing. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { OnnxEmbedder } from "../../src/engines/onnx/onnxEmbedder.js";
import { loadManifest, type OnnxModelEntry } from "../../src/models/manifest.js";
import { verifyModelFile } from "../../src/models/verify.js";
import { MODELS } from "../helpers/paths.js";

let fp32: OnnxEmbedder;
let q4: OnnxEmbedder;
let pairs: [string, string][];

before(async () => {
  const manifest = await loadManifest();
  const entry = (id: string) => manifest.models.find((m) => m.id === id) as OnnxModelEntry;
  fp32 = await OnnxEmbedder.load((await verifyModelFile(entry("edged-embed:fp32"))).path, entry("edged-embed:fp32"));
  q4 = await OnnxEmbedder.load((await verifyModelFile(entry("edged-embed:q4"))).path, entry("edged-embed:q4"));
  pairs = JSON.parse(await readFile(join(MODELS, "data", "heldout-pairs.json"), "utf8")).slice(0, 500);
});
after(async () => {
  await fp32.dispose();
  await q4.dispose();
});

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

test("the provider choice is reported with its reason; vectors are unit length", async () => {
  assert.equal(q4.provider.chosen.name, "cpu");
  assert.match(q4.provider.chosen.reason, /CPU/);
  const [v] = await q4.embed(["Jesus wept."]);
  assert.equal(v!.length, 256);
  assert.ok(Math.abs(dot(v!, v!) - 1) < 1e-4);
});

test("4-bit embeddings agree with fp32 (mean cosine >= 0.99 on held-out sentences)", async () => {
  const texts = pairs.slice(0, 200).map((p) => p[0]);
  const [a, b] = [await fp32.embed(texts), await q4.embed(texts)];
  const mean = a.reduce((s, v, i) => s + dot(v, b[i]!), 0) / a.length;
  assert.ok(mean >= 0.99, `mean cosine ${mean}`);
});

test("held-out pairing: the next verse is the nearest neighbour far more often than chance", async () => {
  for (const model of [fp32, q4]) {
    let hits = 0;
    for (let start = 0; start + 100 <= pairs.length; start += 100) {
      const group = pairs.slice(start, start + 100);
      const firsts = await model.embed(group.map((p) => p[0]));
      const seconds = await model.embed(group.map((p) => p[1]));
      firsts.forEach((f, i) => {
        const best = seconds.reduce((b, s, j) => (dot(f, s) > dot(f, seconds[b]!) ? j : b), 0);
        if (best === i) hits++;
      });
    }
    const accuracy = hits / pairs.length;
    assert.ok(accuracy > 0.05, `top-1 ${accuracy} vs 0.01 by chance`); // five times chance at the least
  }
});
