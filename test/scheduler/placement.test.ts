/** Placement against recorded machines: full and partial GPU offload, CPU, NPU for ONNX, and "fits nowhere". */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { probe } from "../../src/hardware/probe.js";
import { Recording, recordedSources } from "../../src/hardware/sources.js";
import type { LlamaModelEntry, OnnxModelEntry } from "../../src/models/manifest.js";
import { placeLlama, placeOnnx, PlacementError, type LlamaFootprint } from "../../src/scheduler/placement.js";
import { isolatedEnv, writeManifest } from "../helpers/daemon.js";
import { CLI, ROOT, scratchDir } from "../helpers/paths.js";
import { writeTinyModel } from "../helpers/syntheticModel.js";

const MiB = 2 ** 20;
const recordingPath = (name: string) => join(ROOT, "test", "hardware", "recordings", `${name}.json`);
const machine = async (name: string) => probe(recordedSources(Recording.parse(JSON.parse(await readFile(recordingPath(name), "utf8")))));

const source = { kind: "bundled" as const, detail: "test", owned: false };
const llama = (id: string, devices: LlamaModelEntry["devices"] = ["gpu", "cpu"]): LlamaModelEntry => ({ id, engine: "llama", path: "/x.gguf", quant: "Q4_K_M", sha256: "0".repeat(64), bytes: 1, contextSize: 4096, devices, source, defaults: {} });
const onnx = (devices: OnnxModelEntry["devices"]): OnnxModelEntry => ({
  id: "embed:q4", engine: "onnx", task: "embedding", path: "/x.onnx", quant: "q4", sha256: "0".repeat(64), bytes: 4 * MiB, devices, dimensions: 256, tokenizer: { kind: "word-hash", buckets: 8192, maxLength: 64 }, source,
});

/** `layers` layers of `layerMiB` each, plus fixed context buffers on whichever side holds layers. */
function linear(layers: number, layerMiB: number): LlamaFootprint {
  return {
    totalLayers: layers,
    estimate: (n) => ({ gpuVram: n * layerMiB * MiB + (n > 0 ? 200 * MiB : 0), cpuRam: (layers - n) * layerMiB * MiB + 300 * MiB }),
  };
}

test("a model that fits in VRAM goes wholly to the GPU", async () => {
  const p = placeLlama(llama("small"), linear(33, 100), await machine("cuda-laptop"));
  assert.deepEqual([p.device, p.gpuLayers], ["gpu", 33]);
  assert.match(p.reason, /all 33 layers fit on NVIDIA GeForce RTX 4060 Laptop GPU/);
});

test("a model larger than VRAM is split: as many layers as fit on the GPU, the rest on the CPU", async () => {
  const inv = await machine("cuda-laptop");
  const p = placeLlama(llama("big"), linear(100, 100), inv);
  const usable = inv.gpus[0]!.vramFreeBytes * 0.9;
  assert.equal(p.device, "gpu");
  assert.equal(p.gpuLayers, Math.floor((usable - 200 * MiB) / (100 * MiB)));
  assert.match(p.reason, new RegExp(`holds ${p.gpuLayers} of 100 layers`));
});

test("without a GPU, or when the manifest allows only the CPU, the CPU; beyond RAM, a clear error", async () => {
  const kiosk = await machine("cpu-kiosk");
  const onCpu = placeLlama(llama("small"), linear(33, 100), kiosk);
  assert.deepEqual([onCpu.device, onCpu.gpuLayers], ["cpu", 0]);
  assert.match(onCpu.reason, /no GPU found/);
  assert.equal(placeLlama(llama("cpu-only", ["cpu"]), linear(33, 100), await machine("cuda-laptop")).device, "cpu");
  assert.throws(() => placeLlama(llama("huge"), linear(100, 100), kiosk), (e: Error) => e instanceof PlacementError && /huge fits on no device: no GPU found; it needs \d+ MiB of RAM/.test(e.message));
  assert.throws(() => placeLlama(llama("gpu-only", ["gpu"]), linear(33, 100), kiosk), /allowed devices are gpu/);
});

test("ONNX models go to an NPU provider when there is one, else a GPU provider, else the CPU", async () => {
  const all = onnx(["npu", "gpu", "cpu"]);
  assert.deepEqual(((p) => [p.device, p.onnxProvider])(placeOnnx(all, await machine("intel-npu-box"))), ["npu", "openvino"]);
  assert.deepEqual(((p) => [p.device, p.onnxProvider])(placeOnnx(all, await machine("apple-m2-pro"))), ["npu", "coreml"]);
  assert.deepEqual(((p) => [p.device, p.onnxProvider])(placeOnnx(all, await machine("cuda-laptop"))), ["gpu", "cuda"]);
  assert.deepEqual(((p) => [p.device, p.onnxProvider])(placeOnnx(all, await machine("cpu-kiosk"))), ["cpu", "cpu"]);
  assert.equal(placeOnnx(onnx(["cpu"]), await machine("intel-npu-box")).device, "cpu");
});

test("edged doctor --plan explains where a real GGUF would run on a recorded machine", async () => {
  const dir = scratchDir();
  const path = await writeTinyModel(dir);
  const manifest = await writeManifest(dir, { id: "tiny:f16", engine: "llama", path, quant: "F16", contextSize: 512 });
  const run = promisify(execFile);
  const options = { env: isolatedEnv() };
  const laptop = await run(process.execPath, [CLI, "doctor", "--plan", "--manifest", manifest, "--data-dir", dir, "--recording", recordingPath("cuda-laptop")], options);
  assert.match(laptop.stdout, /tiny:f16\s+gpu 3L\s+all 3 layers fit on NVIDIA/);
  assert.match(laptop.stdout, /^tiny:f16 +measured at first load$/m, "threads are measured when the model first loads");
  const kiosk = await run(process.execPath, [CLI, "doctor", "--plan", "--json", "--manifest", manifest, "--data-dir", dir, "--recording", recordingPath("cpu-kiosk")], options);
  const plan = JSON.parse(kiosk.stdout).plan as { placement: { device: string; estimate: { cpuRam: number } } }[];
  assert.equal(plan[0]!.placement.device, "cpu");
  assert.ok(plan[0]!.placement.estimate.cpuRam > 1 * MiB, "weights and KV cache are counted");
});
