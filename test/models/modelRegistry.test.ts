/** The registry's rules with a loader that records what it is asked to do (the loading itself is tested e2e). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../../src/http/errors.js";
import { ModelCatalog } from "../../src/models/catalog.js";
import { ModelEntry } from "../../src/models/entry.js";
import { ModelRegistry, type ModelLoader } from "../../src/models/modelRegistry.js";

const entry = (id: string): ModelEntry =>
  ModelEntry.parse({ id, engine: "llama", path: `/models/${id}.gguf`, quant: "Q4_0", sha256: "0".repeat(64), bytes: 1, contextSize: 512, devices: ["cpu"], source: { kind: "bundled", detail: "test" } });
const manifest = new ModelCatalog({ bundled: { path: "test", defaults: { chat: "a:q" }, models: ["a:q", "b:q", "c:q"].map(entry) } });

function recordingLoader(ramPerModel: number) {
  const events: string[] = [];
  const loader: ModelLoader = {
    place: async (e) => ({ model: e.id, device: "cpu", gpuLayers: 0, estimate: { cpuRam: ramPerModel, gpuVram: 0 }, reason: "test" }),
    load: async (e) => {
      events.push(`load ${e.id}`);
      await new Promise((r) => setTimeout(r, 10));
      return { backend: { kind: "chat", entry: e } as never, dispose: async () => void events.push(`dispose ${e.id}`) };
    },
  };
  return { loader, events };
}

test("concurrent requests for a cold model share one load", async () => {
  const { loader, events } = recordingLoader(1);
  const r = new ModelRegistry(manifest, loader, { budget: { cpuRam: 100, gpuVram: 0 }, maxLoaded: 3, defaultKeepAliveMs: 60_000 });
  await r.preload(["a:q"]);
  await Promise.all(Array.from({ length: 10 }, () => r.useChat("b:q", undefined, async () => undefined)));
  assert.deepEqual(events, ["load a:q", "load b:q"]);
  await r.close();
});

test("memory pressure unloads the least recently used idle model; a busy or pinned one is never unloaded", async () => {
  let now = 0;
  const { loader, events } = recordingLoader(40);
  const r = new ModelRegistry(manifest, loader, { budget: { cpuRam: 100, gpuVram: 0 }, maxLoaded: 10, defaultKeepAliveMs: 60_000, now: () => now });
  await r.preload(["a:q"]); // pinned: 40 of 100
  now = 1;
  await r.useChat("b:q", undefined, async () => undefined); // 80 of 100
  now = 2;
  await r.useChat("c:q", undefined, async () => undefined); // needs 40: b goes
  assert.deepEqual(events, ["load a:q", "load b:q", "dispose b:q", "load c:q"]); // room is made before loading
  let release!: () => void;
  const busy = r.useChat("c:q", undefined, () => new Promise<void>((res) => (release = res)));
  await new Promise((res) => setTimeout(res, 5));
  await assert.rejects(r.useChat("b:q", undefined, async () => undefined), (e: ApiError) => e.status === 503 && e.code === "insufficient_memory");
  release();
  await busy;
  await r.close();
});

test("unknown names are 404; a family name finds the default", async () => {
  const { loader } = recordingLoader(1);
  const r = new ModelRegistry(manifest, loader, { budget: { cpuRam: 100, gpuVram: 0 }, maxLoaded: 3, defaultKeepAliveMs: 0 });
  assert.equal(r.entryFor("a").id, "a:q");
  assert.throws(() => r.entryFor("zzz"), (e: ApiError) => e.status === 404);
  await assert.rejects(r.useChat("a:q", undefined, async () => undefined), (e: ApiError) => e.status === 503, "not ready before preload");
});
