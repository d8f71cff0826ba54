/** The real probe code, fed with recorded machines that are not here, and run live on this one. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { describeInventory } from "../../src/hardware/describe.js";
import { probe } from "../../src/hardware/probe.js";
import { liveSources, Recording, recordedSources, recordingSources } from "../../src/hardware/sources.js";
import { ROOT } from "../helpers/paths.js";

const GiB = 2 ** 30;
const recording = async (name: string) =>
  Recording.parse(JSON.parse(await readFile(join(ROOT, "test", "hardware", "recordings", `${name}.json`), "utf8")));
const probeRecorded = async (name: string) => probe(recordedSources(await recording(name)));

test("a CUDA laptop: hybrid cores counted, AVX-VNNI without AVX-512, one CUDA GPU with its VRAM", async () => {
  const inv = await probeRecorded("cuda-laptop");
  assert.equal(inv.cpu.physicalCores, 14);
  assert.equal(inv.cpu.logicalCores, 20);
  assert.ok(inv.cpu.simd.includes("AVX2") && inv.cpu.simd.includes("AVX-VNNI"));
  assert.ok(!inv.cpu.simd.includes("AVX512F"));
  assert.equal(inv.cpu.ramFreeBytes, 21 * GiB); // MemAvailable, not MemFree
  assert.deepEqual(inv.gpus.map((g) => [g.backend, g.name, g.vramTotalBytes, g.unifiedMemory]), [["cuda", "NVIDIA GeForce RTX 4060 Laptop GPU", 8 * GiB, false]]);
  assert.deepEqual(inv.npus, []);
});

test("an Intel NPU box: the accel device, its intel_vpu driver and the OpenVINO provider", async () => {
  const inv = await probeRecorded("intel-npu-box");
  assert.deepEqual(inv.npus, [{ source: "linux-accel", name: "Intel NPU", driver: "intel_vpu", device: "/dev/accel/accel0", onnxProvider: "openvino" }]);
  assert.deepEqual(inv.gpus, []);
  assert.equal(inv.cpu.physicalCores, 16);
  assert.match(describeInventory(inv), /Intel NPU \[linux-accel\]: driver intel_vpu, \/dev\/accel\/accel0, onnxruntime provider openvino/);
});

test("an Apple M-series: NEON and its extensions from sysctl, Metal with unified memory, the Neural Engine via Core ML", async () => {
  const inv = await probeRecorded("apple-m2-pro");
  assert.equal(inv.platform, "darwin-arm64");
  assert.equal(inv.cpu.model, "Apple M2 Pro");
  assert.deepEqual(inv.cpu.simd, ["NEON", "DOTPROD", "I8MM", "BF16"]);
  assert.equal(inv.gpus[0]!.backend, "metal");
  assert.equal(inv.gpus[0]!.unifiedMemory, true);
  assert.deepEqual(inv.npus, [{ source: "apple-neural-engine", name: "Apple Neural Engine", onnxProvider: "coreml" }]);
});

test("a CPU-only kiosk: no GPU, no NPU, and providers that need missing libraries are marked", async () => {
  const inv = await probeRecorded("cpu-kiosk");
  assert.deepEqual([inv.gpus, inv.npus], [[], []]);
  assert.equal(inv.cpu.physicalCores, 4);
  assert.ok(!inv.cpu.simd.includes("AVX512F"));
  assert.match(describeInventory(inv), /cuda \(needs its own libraries\)/);
});

test("an onnxruntime build with an NPU provider but no device found still lists the provider", async () => {
  const r = await recording("cpu-kiosk");
  const inv = await probe(recordedSources({ ...r, onnxBackends: [...r.onnxBackends, { name: "qnn", bundled: true }] }));
  assert.deepEqual(inv.npus, [{ source: "onnx-provider", name: "Qualcomm Hexagon NPU through QNN", onnxProvider: "qnn" }]);
});

test("recording a probe and replaying it gives the same inventory", async () => {
  const original = await recording("intel-npu-box");
  const recorder = recordingSources(recordedSources(original), "copy");
  const first = await probe(recorder.sources);
  const replayed = await probe(recordedSources(await recorder.recording()));
  assert.deepEqual(replayed, first);
});

test("the live probe of this machine is a valid inventory that agrees with the OS", async () => {
  const inv = await probe(liveSources());
  assert.equal(inv.cpu.logicalCores, cpus().length);
  assert.ok(inv.cpu.physicalCores >= 1 && inv.cpu.physicalCores <= inv.cpu.logicalCores);
  assert.ok(inv.cpu.ramFreeBytes > 0 && inv.cpu.ramFreeBytes <= inv.cpu.ramTotalBytes);
  assert.ok(inv.onnxProviders.some((p) => p.name === "cpu"));
});
