/**
 * The composition root of `edged serve`: listens at once, answers 503 while the configured models are
 * verified, placed and loaded, then serves every model of the manifest (others load on demand); `stop`
 * drains requests and releases everything.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Llama } from "node-llama-cpp";
import { durationMs } from "./config/duration.js";
import type { Config } from "./config/schema.js";
import { BackgroundCheckpointer } from "./db/checkpointer.js";
import { openDatabase } from "./db/open.js";
import { DataDirectory } from "./db/storage.js";
import { LlamaChatModel } from "./engines/llama/chatModel.js";
import { JsonConstraints } from "./engines/llama/grammar/constraints.js";
import { llamaRuntime } from "./engines/llama/runtime.js";
import { OnnxEmbedder } from "./engines/onnx/onnxEmbedder.js";
import type { Inventory } from "./hardware/inventory.js";
import { probe } from "./hardware/probe.js";
import { liveSources } from "./hardware/sources.js";
import { hardwareRoute, type HardwareView } from "./http/admin/hardware.js";
import { adminRoutes } from "./http/admin/health.js";
import { Guard } from "./http/guard.js";
import { ollamaGenerateRoutes } from "./http/ollama/generate.js";
import { ollamaModelRoutes } from "./http/ollama/models.js";
import { chatCompletionsRoute } from "./http/openai/chatCompletions.js";
import { completionsRoute } from "./http/openai/completions.js";
import { embeddingsRoute } from "./http/openai/embeddings.js";
import { modelRoutes } from "./http/openai/models.js";
import { memoryRoutes } from "./http/memory/routes.js";
import { queueRoutes } from "./http/queue/routes.js";
import { RouteTable } from "./http/routes.js";
import { HttpServer } from "./http/server.js";
import { loadManifest, ManifestError, verifyModelFile, type Device, type ModelEntry } from "./models/manifest.js";
import { MemoryService } from "./memory/memoryService.js";
import { MemoryStore } from "./memory/memoryStore.js";
import { MEMORY_MIGRATIONS } from "./memory/migrations.js";
import { ModelRegistry, type LoadedBackend, type ModelLoader } from "./models/modelRegistry.js";
import { placeModel } from "./scheduler/plan.js";
import type { Placement } from "./scheduler/placement.js";
import { calibrate } from "./router/calibration.js";
import type { Observation } from "./router/latencyModel.js";
import { localKeys } from "./router/router.js";
import { startRouterSide, type RouterSide } from "./routerSetup.js";
import { SlotScheduler } from "./scheduler/slotScheduler.js";
import { ServerMetrics } from "./telemetry/serverMetrics.js";

export interface Daemon {
  url: string;
  /** The models loaded at startup and kept loaded, by id. */
  plan: { chat: string; embedding?: string };
  address: AddressInfo;
  models: ModelRegistry;
  /** Settles when the pinned models are loaded; rejects with the reason one could not be. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export type Log = (message: string) => void;

function pick(manifest: { models: ModelEntry[] }, id: string, engine: ModelEntry["engine"]): ModelEntry {
  const entry = manifest.models.find((m) => m.id === id);
  if (!entry) throw new ManifestError(`model "${id}" is not in the manifest (known: ${manifest.models.map((m) => m.id).join(", ")})`);
  if (entry.engine !== engine) throw new ManifestError(`model "${id}" is an ${entry.engine} model, not ${engine}`);
  return entry;
}

/** One lane per device: the chat models placed on a device share its slots. */
class Lanes {
  readonly byDevice = new Map<Device, SlotScheduler>();
  constructor(private readonly config: Config) {}
  for(device: Device): SlotScheduler {
    let lane = this.byDevice.get(device);
    if (!lane) {
      const { llama, queue } = this.config;
      lane = new SlotScheduler({ slots: llama.slots, maxWaiting: queue.maxWaiting, reservedForInteractive: Math.min(queue.reservedForInteractive, llama.slots - 1) });
      this.byDevice.set(device, lane);
    }
    return lane;
  }
}

/** A chat model's first latency measurement, taken as it loads. */
type OnCalibrated = (model: string, device: Device, observation: Observation) => void;

/** The real loader: checksum, then llama.cpp or onnxruntime on the placed device. */
function modelLoader(
  config: Config,
  manifest: Awaited<ReturnType<typeof loadManifest>>,
  runtime: Promise<{ llama: Llama; inventory: Inventory }>,
  lanes: Lanes,
  onCalibrated: OnCalibrated,
): ModelLoader {
  return {
    /** Verifies the file first: nothing reads a model file (not even its metadata) before its hash matches. */
    async place(entry) {
      const { llama, inventory } = await runtime;
      await verifyModelFile(manifest, entry);
      return placeModel(entry, manifest, inventory, llama, config.llama.slots);
    },
    async load(entry, placement: Placement): Promise<LoadedBackend> {
      const { llama, inventory } = await runtime;
      const path = manifest.pathOf(entry);
      if (entry.engine === "llama") {
        const model = await LlamaChatModel.load(llama, path, {
          gpuLayers: placement.gpuLayers ?? 0,
          threads: config.llama.threads,
          slots: config.llama.slots,
          contextSize: config.llama.contextSize ?? entry.contextSize,
          batchSize: config.llama.batchSize,
          prefixReuse: config.llama.prefixReuse,
        });
        onCalibrated(entry.id, placement.device, await calibrate(model));
        return { backend: { kind: "chat", entry, model, scheduler: lanes.for(placement.device), device: placement.device }, dispose: () => model.dispose() };
      }
      const embedder = await OnnxEmbedder.load(path, entry, { threads: config.onnx.threads, devices: entry.devices, gpuPresent: inventory.gpus.length > 0 });
      return { backend: { kind: "embedding", entry, embedder }, dispose: () => embedder.dispose() };
    },
  };
}

export async function startDaemon(config: Config, log: Log): Promise<Daemon> {
  const manifest = await loadManifest(config.models.manifest);
  const chatEntry = pick(manifest, config.models.chat ?? manifest.defaults.chat, "llama");
  const embeddingId = config.models.embedding === false ? undefined : (config.models.embedding ?? manifest.defaults.embedding);
  const embeddingEntry = embeddingId ? pick(manifest, embeddingId, "onnx") : undefined;
  await mkdir(config.dataDir, { recursive: true });

  const hardware: HardwareView = {};
  const runtime = (async () => {
    const llama = await llamaRuntime();
    const inventory = await probe(liveSources());
    hardware.inventory = inventory;
    return { llama, inventory };
  })();
  runtime.catch(() => undefined); // reported through `ready`
  const budgetOf = (inventory: Inventory) =>
    config.models.memoryBudgetMiB !== undefined
      ? { cpuRam: config.models.memoryBudgetMiB * 2 ** 20, gpuVram: config.models.memoryBudgetMiB * 2 ** 20 }
      : { cpuRam: inventory.cpu.ramFreeBytes * 0.9, gpuVram: inventory.gpus.reduce((n, g) => n + g.vramFreeBytes, 0) * 0.9 };
  const budget = { cpuRam: Infinity, gpuVram: Infinity };
  const lanes = new Lanes(config);
  let routerSide: RouterSide | undefined; // made after the registry it uses; models load once the daemon listens
  const onCalibrated: OnCalibrated = (model, device, observation) => {
    for (const key of localKeys(model, device, 1)) routerSide?.routing.router.latency.observe(key, observation);
  };
  const models = new ModelRegistry(manifest, modelLoader(config, manifest, runtime, lanes, onCalibrated), {
    budget,
    maxLoaded: config.models.maxLoaded,
    defaultKeepAliveMs: durationMs(config.models.keepAlive),
    log,
  });
  const metrics = new ServerMetrics(() => [...lanes.byDevice.values()]);
  const storage = new DataDirectory(config.dataDir);
  metrics.watchStorage(storage);
  let constraints: JsonConstraints | undefined;
  const memoryDb = openDatabase(join(config.dataDir, "memory.db"), MEMORY_MIGRATIONS, config.memory.durability);
  const memoryCheckpointer = new BackgroundCheckpointer(memoryDb, { onError: log });
  const memoryStore = new MemoryStore(memoryDb, { maxVersions: config.memory.maxVersions });
  const memory = new MemoryService(memoryStore, models, embeddingEntry?.id);
  const deps = { models, metrics, memory, constraints: () => constraints!, limits: config.limits };
  routerSide = startRouterSide(config, { models, registry: metrics.registry, defaultChat: chatEntry.id, embedding: embeddingEntry?.id, log });
  // a sweep refused by a full disk is tried again at the next interval
  const sweeper = setInterval(() => {
    try {
      memoryStore.sweepExpired();
    } catch (error) {
      log(`memory sweep failed: ${(storage.explain(error) as Error).message}`);
    }
  }, durationMs(config.memory.sweepInterval));
  sweeper.unref();
  const routes = new RouteTable([
    ...adminRoutes(models, metrics, storage),
    hardwareRoute(hardware),
    ...modelRoutes(models),
    chatCompletionsRoute({ ...deps, routing: routerSide.routing }),
    completionsRoute(deps),
    embeddingsRoute(deps),
    ...ollamaGenerateRoutes(deps),
    ...ollamaModelRoutes({ models, startedAt: new Date(), limits: config.limits }),
    ...memoryRoutes(memory, config.limits),
    ...queueRoutes({ routing: routerSide.routing, jobs: routerSide.jobs, limits: config.limits }),
  ]);
  const guard = new Guard({ host: config.host, port: config.port, ...config.security });
  const http = new HttpServer(routes, guard, {
    onResponse: (route, status, seconds) => metrics.observeResponse(route, status, seconds),
    onInternalError: (error, route) => log(`internal error on ${route}: ${(error as Error).stack ?? String(error)}`),
    explain: (error) => storage.explain(error),
  });
  const address = await http.listen(config.port, config.host);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  const ready = (async () => {
    const { llama, inventory } = await runtime;
    Object.assign(budget, budgetOf(inventory));
    constraints = new JsonConstraints(llama);
    log(`llama.cpp on ${llama.gpu || "cpu"} with ${config.llama.threads} thread(s), ${config.llama.slots} slots per chat model`);
    await models.preload([chatEntry.id, ...(embeddingEntry ? [embeddingEntry.id] : [])]);
  })();
  ready.catch((error: Error) => {
    models.notReadyReason = `model loading failed: ${error.message}`;
  });

  return {
    url: `http://${host}:${address.port}`,
    plan: { chat: chatEntry.id, embedding: embeddingEntry?.id },
    address,
    models,
    ready,
    async stop() {
      models.notReadyReason = "shutting down";
      await http.shutdown(config.shutdownGraceMs);
      await ready.catch(() => undefined);
      await routerSide.stop();
      await models.close();
      clearInterval(sweeper);
      await memoryCheckpointer.stop();
      memoryDb.close();
    },
  };
}
