import assert from "node:assert/strict";
import { test } from "node:test";
import { choose, rankProviders } from "../../src/engines/onnx/executionProviders.js";

// What onnxruntime-node's listSupportedBackends() reports on other machines.
const RECORDED = {
  linuxX64: [{ name: "cpu", bundled: true }, { name: "webgpu", bundled: true }, { name: "cuda", bundled: false }, { name: "tensorrt", bundled: false }],
  macArm64: [{ name: "cpu", bundled: true }, { name: "webgpu", bundled: true }, { name: "coreml", bundled: true }],
  winArm64: [{ name: "cpu", bundled: true }, { name: "dml", bundled: true }, { name: "webgpu", bundled: true }, { name: "qnn", bundled: true }],
};

test("NPU providers come first, then GPU providers, then CPU", () => {
  assert.deepEqual(rankProviders(RECORDED.winArm64).map((c) => c.name), ["qnn", "dml", "webgpu", "cpu"]);
  assert.deepEqual(rankProviders(RECORDED.macArm64).map((c) => [c.name, c.class]), [["coreml", "npu"], ["webgpu", "gpu"], ["cpu", "cpu"]]);
  assert.deepEqual(rankProviders(RECORDED.linuxX64).map((c) => c.class), ["gpu", "gpu", "gpu", "cpu"]);
  assert.match(rankProviders(RECORDED.linuxX64).find((c) => c.name === "cuda")!.reason, /needs its own libraries/);
});

test("a model's allowed devices filter the classes; CPU always remains", () => {
  assert.deepEqual(rankProviders(RECORDED.winArm64, { allowed: ["cpu"] }).map((c) => c.name), ["cpu"]);
  assert.deepEqual(rankProviders(RECORDED.winArm64, { allowed: ["npu", "cpu"] }).map((c) => c.name), ["qnn", "cpu"]);
});

test("without a GPU found by the probe, GPU providers are not tried; NPU providers still are", () => {
  assert.deepEqual(rankProviders(RECORDED.winArm64, { gpuPresent: false }).map((c) => c.name), ["qnn", "cpu"]);
  assert.deepEqual(rankProviders(RECORDED.linuxX64, { gpuPresent: false }).map((c) => c.name), ["cpu"]);
});

test("choose keeps the first provider that opens and records why the others did not", async () => {
  const { value, choice } = await choose(rankProviders(RECORDED.winArm64), async (name) => {
    if (name !== "webgpu") throw new Error(`${name} is not installed\nmore detail`);
    return `session on ${name}`;
  });
  assert.equal(value, "session on webgpu");
  assert.equal(choice.chosen.name, "webgpu");
  assert.deepEqual(choice.rejected, [{ name: "qnn", error: "qnn is not installed" }, { name: "dml", error: "dml is not installed" }]);
  await assert.rejects(choose(rankProviders([]), async () => Promise.reject(new Error("broken"))), /no execution provider could open the model: cpu: broken/);
});
