/**
 * The composition root of `edged serve`: listens at once, answers 503 while the configured models are
 * verified, placed and loaded, then serves every model of the manifest (others load on demand); `stop`
 * drains requests and releases everything.
 */
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { AddressInfo } from "node:net";
import type { Llama } from "node-llama-cpp";
import { durationMs } from "./config/duration.js";
import { planReload, withSettings } from "./config/changes.js";
import type { Config } from "./config/schema.js";
import { BackgroundCheckpointer } from "./db/checkpointer.js";
import { openDatabase } from "./db/open.js";
import { DataDirectory } from "./db/storage.js";
import { LlamaChatModel, type ChatModelOptions } from "./engines/llama/chatModel.js";
import { measureThreads } from "./engines/llama/threadTuner.js";
import { machineKey } from "./models/threadChoices.js";
import { JsonConstraints } from "./engines/llama/grammar/constraints.js";
import { llamaRuntime } from "./engines/llama/runtime.js";
import { loadThreadPools } from "./engines/llama/threadPools.js";
import { OnnxEmbedder } from "./engines/onnx/onnxEmbedder.js";
import type { Inventory } from "./hardware/inventory.js";
import { probe } from "./hardware/probe.js";
import { liveSources } from "./hardware/sources.js";
import { hardwareRoute, type HardwareView } from "./http/admin/hardware.js";
import { adminRoutes } from "./http/admin/health.js";
import { consoleRoutes } from "./console/routes.js";
import { recentRequestsRoute } from "./http/admin/requests.js";
import { benchmarkRoutes } from "./http/admin/benchmarks.js";
import { budgetsRoute } from "./http/admin/budgets.js";
import { anthropicRoutes } from "./http/anthropic/messages.js";
import { responsesRoutes } from "./http/responses/routes.js";
import { RESPONSE_MIGRATIONS, ResponseStore } from "./responses/responseStore.js";
import { ToolPermissions } from "./core/toolPermissions.js";
import { Guard } from "./http/guard.js";
import { ollamaGenerateRoutes } from "./http/ollama/generate.js";
import { ollamaModelRoutes } from "./http/ollama/models.js";
import { ollamaStoreRoutes } from "./http/ollama/modelStore.js";
import { chatCompletionsRoute } from "./http/openai/chatCompletions.js";
import { completionsRoute } from "./http/openai/completions.js";
import { tokenizeRoutes } from "./http/openai/tokenize.js";
import { embeddingsRoute } from "./http/openai/embeddings.js";
import { modelRoutes } from "./http/openai/models.js";
import { memoryRoutes } from "./http/memory/routes.js";
import { queueRoutes } from "./http/queue/routes.js";
import { RouteTable } from "./http/routes.js";
import { HttpServer } from "./http/server.js";
import type { ModelCatalog } from "./models/catalog.js";
import type { Device, ModelEntry } from "./models/entry.js";
import { ManifestError } from "./models/manifest.js";
import { addModel } from "./models/addModel.js";
import { openCatalog } from "./models/openCatalog.js";
import { fitCheck } from "./scheduler/fitCheck.js";
import { verifyModelFile } from "./models/verify.js";
import { MemoryService } from "./memory/memoryService.js";
import { MemoryStore } from "./memory/memoryStore.js";
import { MEMORY_MIGRATIONS } from "./memory/migrations.js";
import { ModelRegistry, type LoadedBackend, type ModelLoader } from "./models/modelRegistry.js";
import { placeModel, placementContext } from "./scheduler/plan.js";
import type { Placement } from "./scheduler/placement.js";
import { calibrate } from "./router/calibration.js";
import type { Observation } from "./router/latencyModel.js";
import { localKeys } from "./router/router.js";
import { startRouterSide, type RouterSide } from "./routerSetup.js";
import { Housekeeping } from "./housekeeping.js";
import { runGate, swapsOf, type LocalModels } from "./eval/gate.js";
import { chatId, DefaultFixedError, type DefaultChange } from "./models/defaultChat.js";
import { defaultsRoutes } from "./http/admin/defaults.js";
import { AlertEngine } from "./alerts/engine.js";
import { alertsRoute } from "./http/admin/alerts.js";
import { WebhookDelivery } from "./alerts/webhooks.js";
import { EvalStore } from "./eval/store.js";
import { OnlineSamples } from "./eval/onlineSamples.js";
import { onlineEvaluation } from "./eval/onlineSetup.js";
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
  /**
   * Applies what of a new configuration can change while running (the guard's keys, hosts and origins, the
   * router's policy, the default chat model) and names what waits for a restart; `gate` says which swapped local
   * models passed the eval gate. Throws, changing nothing, when the new guard is refused or a swapped model fails
   * the gate.
   */
  reload(next: Config): Promise<{ applied: string[]; restart: string[]; gate: string[] }>;
  /** Makes a chat model the default for this data directory, after the eval gate; refused while the configuration names one. */
  setDefaultChat(name: string): Promise<DefaultChange>;
  stop(): Promise<void>;
}

export type Log = (message: string) => void;

function pick(catalog: ModelCatalog, id: string, engine: ModelEntry["engine"]): ModelEntry {
  const entry = catalog.find(id);
  if (!entry) throw new ManifestError(`model "${id}" is not known (known: ${catalog.entries().map((m) => m.id).join(", ")})`);
  if (entry.engine !== engine) throw new ManifestError(`model "${id}" is an ${entry.engine} model, not ${engine}`);
  return entry;
}

const percent = (done: number, total: number) => Math.floor((done / Math.max(total, 1)) * 100);

/** Progress of hashing a model file, as log lines every 10 %. */
function hashLog(log: Log, entry: Pick<ModelEntry, "id">): (done: number, total: number) => void {
  let shown = -1;
  return (done, total) => {
    const p = percent(done, total);
    if (p >= shown + 10 || (done === total && shown !== 100)) log(`hashing ${entry.id}: ${(shown = p)} % of ${Math.round(total / 2 ** 20)} MiB`);
  };
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

/** The llama.cpp threads of a model: configured, else remembered for this file on this machine, else measured now. */
function threadsFor(config: Config, catalog: ModelCatalog, inventory: Inventory, llama: Llama, entry: ModelEntry, sha256: string, log: Log): ChatModelOptions["threads"] {
  if (config.llama.threads !== undefined) return config.llama.threads;
  const machine = machineKey(inventory, llama);
  return async (model) => {
    const remembered = catalog.user?.threads.get(sha256, machine);
    if (remembered) {
      log(`${entry.id}: ${remembered.threads} llama.cpp thread(s), measured on this machine (decode tokens/s by threads: ${JSON.stringify(remembered.tokensPerSecond)})`);
      return remembered.threads;
    }
    const measured = await measureThreads(model, { cores: inventory.cpu.logicalCores, flashAttention: config.llama.flashAttention });
    catalog.user?.threads.put(sha256, machine, measured);
    log(`${entry.id}: ${measured.threads} llama.cpp thread(s), measured now (decode tokens/s by threads: ${JSON.stringify(measured.tokensPerSecond)}; remembered)`);
    return measured.threads;
  };
}

/** The real loader: checksum, then llama.cpp or onnxruntime on the placed device. */
function modelLoader(config: Config, catalog: ModelCatalog, runtime: Promise<{ llama: Llama; inventory: Inventory }>, lanes: Lanes, onCalibrated: OnCalibrated, log: Log): ModelLoader {
  /** Each model's verified hash: the key its measured thread count is remembered by. */
  const hashes = new Map<string, string>();
  return {
    /** Verifies the file first: llama.cpp reads no model file before its size and hash match (an unchanged file's hash is remembered). */
    async place(entry) {
      const { llama, inventory } = await runtime;
      hashes.set(entry.id, (await verifyModelFile(entry, { hashes: catalog.user?.hashes, onProgress: hashLog(log, entry) })).sha256);
      return placeModel(entry, placementContext(config, inventory, llama));
    },
    async load(entry, placement: Placement): Promise<LoadedBackend> {
      const { llama, inventory } = await runtime;
      const { path } = entry;
      if (entry.engine === "llama") {
        const model = await LlamaChatModel.load(llama, path, {
          gpuLayers: placement.gpuLayers ?? 0,
          threads: threadsFor(config, catalog, inventory, llama, entry, hashes.get(entry.id) ?? entry.path, log),
          slots: config.llama.slots,
          interactiveSlots: config.queue.reservedForInteractive,
          contextSize: config.llama.contextSize ?? entry.contextSize,
          batchSize: config.llama.batchSize,
          flashAttention: config.llama.flashAttention,
          prefixReuse: config.llama.prefixReuse,
          template: entry.template,
          defaults: entry.defaults,
        });
        log(`${entry.id}: chat template: ${model.template.description}`);
        onCalibrated(entry.id, placement.device, await calibrate(model));
        return { backend: { kind: "chat", entry, model, scheduler: lanes.for(placement.device), device: placement.device }, dispose: () => model.dispose() };
      }
      const embedder = await OnnxEmbedder.load(path, entry, { threads: config.onnx.threads, devices: entry.devices, gpuPresent: inventory.gpus.length > 0 });
      return { backend: { kind: "embedding", entry, embedder }, dispose: () => embedder.dispose() };
    },
  };
}

/** `--model` names a file rather than a model id: it ends in .gguf, or it is a path that exists. */
const isModelPath = (name: string) => name.toLowerCase().endsWith(".gguf") || (name.includes("/") && existsSync(name));

/** `edged serve --model FILE`: the file is added in place on the fly (once: a later start, or a file the catalogue already serves, finds its entry). */
async function servedFromPath(file: string, config: Config, catalog: ModelCatalog, runtime: Promise<{ llama: Llama; inventory: Inventory }>, log: Log): Promise<string> {
  const path = resolve(file);
  const known = catalog.entries().find((e) => e.path === path);
  if (known) return known.id;
  const { llama, inventory } = await runtime;
  const entry = await addModel({ file: path }, { catalog, user: catalog.user!, llama, place: fitCheck(config, llama, inventory), onHashProgress: hashLog(log, { id: basename(path) }) });
  log(`added ${entry.id} from ${path} (in place)`);
  await catalog.refresh();
  return entry.id;
}

export interface DaemonOptions {
  /** The wall clock of alert rules and the cloud's circuit breakers (a test moves it on). */
  now?: () => number;
}

export async function startDaemon(config: Config, log: Log, options: DaemonOptions = {}): Promise<Daemon> {
  const storage = new DataDirectory(config.dataDir);
  storage.ensureWritable();
  const hardware: HardwareView = {};
  const runtime = (async () => {
    const llama = await llamaRuntime();
    const inventory = await probe(liveSources());
    hardware.inventory = inventory;
    return { llama, inventory };
  })();
  runtime.catch(() => undefined); // reported through `ready`
  const catalog = await openCatalog(config, llamaRuntime);
  for (const problem of catalog.problems) log(`model store (${problem.source}): ${problem.path}: ${problem.reason}`);
  const chatName = config.models.chat && isModelPath(config.models.chat) ? await servedFromPath(config.models.chat, config, catalog, runtime, log) : config.models.chat;
  const chatEntry = pick(catalog, chatName ?? catalog.defaults.chat, "llama");
  catalog.configuredChat = chatName === undefined ? undefined : chatEntry.id;
  const embeddingId = config.models.embedding === false ? undefined : (config.models.embedding ?? catalog.defaults.embedding);
  const embeddingEntry = embeddingId ? pick(catalog, embeddingId, "onnx") : undefined;

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
  const models = new ModelRegistry(catalog, modelLoader(config, catalog, runtime, lanes, onCalibrated, log), {
    budget,
    maxLoaded: config.models.maxLoaded,
    defaultKeepAliveMs: durationMs(config.models.keepAlive),
    log,
    onLoadFailed: (id) => metrics.modelLoadFailures.inc({ model: id }),
  });
  const metrics = new ServerMetrics(() => [...lanes.byDevice.entries()]);
  metrics.watchStorage(storage);
  let constraints: JsonConstraints | undefined;
  const memoryDb = openDatabase(join(config.dataDir, "memory.db"), MEMORY_MIGRATIONS, config.memory.durability);
  const memoryCheckpointer = new BackgroundCheckpointer(memoryDb, { onError: log });
  const responsesDb = openDatabase(join(config.dataDir, "responses.db"), RESPONSE_MIGRATIONS);
  const memoryStore = new MemoryStore(memoryDb, { maxVersions: config.memory.maxVersions });
  const memory = new MemoryService(memoryStore, models, embeddingEntry?.id);
  routerSide = startRouterSide(config, { models, registry: metrics.registry, embedding: embeddingEntry?.id, log, now: options.now });
  const toolPermissions = config.security.tools && new ToolPermissions(config.security.tools);
  const deps = { models, metrics, memory, constraints: () => constraints!, limits: config.limits, routing: routerSide.routing, toolPermissions };
  const responses = new ResponseStore(responsesDb);
  const webhooks = config.alerts.webhooks.length
    ? new WebhookDelivery({
        path: join(config.dataDir, "webhooks.db"),
        webhooks: config.alerts.webhooks,
        ttlMs: durationMs(config.offline.ttl),
        maxAttempts: config.offline.maxAttempts,
        backoff: { baseMs: config.offline.retryBaseMs, maxMs: config.offline.retryMaxMs },
        probeIntervalMs: durationMs(config.offline.probeInterval),
        log,
      })
    : undefined;
  const keep = { purged: metrics.purged, log, explain: (error: unknown) => storage.explain(error) };
  const housekeeping = [
    new Housekeeping([{ what: "expired_memories", run: () => memoryStore.sweepExpired() }], { ...keep, intervalMs: durationMs(config.memory.sweepInterval) }),
    new Housekeeping(
      [
        ...routerSide.chores,
        { what: "stored_responses", run: () => responses.purgeBefore((Date.now() - durationMs(config.responses.retention)) / 1000) },
        ...(webhooks ? [{ what: "webhook_deliveries", run: () => webhooks.purge(durationMs(config.offline.retention)) }] : []),
      ],
      { ...keep, intervalMs: durationMs(config.housekeeping.interval) },
    ),
  ];
  const onlineSamples = config.eval.online.sampleRate > 0 ? new OnlineSamples(join(config.dataDir, "eval.db")) : undefined;
  if (onlineSamples) housekeeping.push(new Housekeeping([{ what: "online_samples", run: () => onlineSamples.purge(durationMs(config.eval.online.retention)) }], { ...keep, intervalMs: durationMs(config.housekeeping.interval) }));
  const deviceLoad = () => [...lanes.byDevice.values()].reduce((n, lane) => n + lane.busy + lane.waiting, 0);
  const online = onlineSamples && onlineEvaluation(config, { url: () => daemon.url, apiKey: config.security.apiKeys[0], models, routing: routerSide.routing, registry: metrics.registry, samples: onlineSamples, embedding: embeddingEntry?.id, log, deviceLoad });
  routerSide.routing.online = online;
  const alerts = new AlertEngine(
    config.alerts.rules,
    () => metrics.registry.render(),
    (event) => {
      log(JSON.stringify(event));
      webhooks?.send(event);
    },
    options.now,
  );
  metrics.watchAlerts(() => alerts.alerts());
  metrics.watchStores({ memory: () => memoryStore.sizes(), responses: () => responses.count, grammars: () => constraints?.size ?? 0 });
  const routes = new RouteTable([
    ...adminRoutes(models, metrics, storage),
    alertsRoute(alerts),
    ...defaultsRoutes({ catalog, setDefaultChat: (name) => daemon.setDefaultChat(name), limits: config.limits }),
    hardwareRoute(hardware),
    ...modelRoutes(models),
    chatCompletionsRoute(deps),
    ...anthropicRoutes(deps),
    ...responsesRoutes({ ...deps, responses }),
    completionsRoute(deps),
    ...tokenizeRoutes({ models, limits: config.limits }),
    embeddingsRoute(deps),
    ...ollamaGenerateRoutes(deps),
    ...ollamaModelRoutes({ models, startedAt: new Date(), limits: config.limits }),
    ...ollamaStoreRoutes({ catalog, models, config, runtime: () => runtime, log }),
    ...memoryRoutes(memory, config.limits),
    ...queueRoutes({ routing: routerSide.routing, jobs: routerSide.jobs, limits: config.limits, toolPermissions }),
    recentRequestsRoute(routerSide.routing.recent),
    budgetsRoute(routerSide.routing.budget),
    ...benchmarkRoutes(),
    ...(config.console.enabled ? consoleRoutes() : []),
  ]);
  const guard = new Guard({ host: config.host, port: config.port, ...config.security });
  const http = new HttpServer(routes, guard, {
    onResponse: (route, status, seconds) => metrics.observeResponse(route, status, seconds),
    onInternalError: (error, route) => log(`internal error on ${route}: ${(error as Error).stack ?? String(error)}`),
    explain: (error) => storage.explain(error),
  });
  const address = await http.listen(config.port, config.host);
  alerts.start(durationMs(config.alerts.interval));
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  const ready = (async () => {
    const { llama, inventory } = await runtime;
    Object.assign(budget, budgetOf(inventory));
    constraints = new JsonConstraints(llama, config.llama.grammarCache);
    log(`llama.cpp on ${llama.gpu || "cpu"} with ${config.llama.threads ?? "measured"} thread(s), ${config.llama.slots} slots per chat model${loadThreadPools() ? ", a persistent thread pool per context" : ""}`);
    await models.preload([chatEntry.id, ...(embeddingEntry ? [embeddingEntry.id] : [])]);
  })();
  ready.catch((error: Error) => {
    models.notReadyReason = `model loading failed: ${error.message}`;
  });

  let running = config;
  // one change of the default or the routes at a time: each gate compares with what the previous change left
  let changing: Promise<unknown> = Promise.resolve();
  const serially = <T>(change: () => Promise<T>): Promise<T> => {
    const done = changing.then(change);
    changing = done.catch(() => undefined);
    return done;
  };
  const gated = async (after: LocalModels, gate = running.eval.gate): Promise<string[]> => {
    const swaps = gate ? swapsOf({ defaultChat: catalog.defaults.chat, routes: running.router.routes }, after, (name) => models.isChat(name)) : [];
    if (!swaps.length) return [];
    const store = new EvalStore(join(config.dataDir, "eval.db"));
    try {
      return await runGate(gate!, swaps, { url: daemon.url, apiKey: running.security.apiKeys[0], embeddingModel: embeddingEntry?.id ?? "", store });
    } finally {
      store.close();
    }
  };
  /** The new default is loaded and pinned before it takes over; the old one stays for the keep-alive. */
  const switchDefault = async (to: string, commit: () => void) => {
    const from = catalog.defaults.chat;
    if (to !== from) await models.pin(to);
    commit();
    if (to !== from) {
      models.unpin(from);
      log(`default chat model: ${to} (was ${from})`);
    }
  };
  const daemon: Daemon = {
    url: `http://${host}:${address.port}`,
    get plan() {
      return { chat: catalog.defaults.chat, embedding: embeddingEntry?.id };
    },
    address,
    models,
    ready,
    reload: (next) =>
      serially(async () => {
        const { live, restart } = planReload(running, next);
        const chatChanged = live.includes("models.chat");
        const named = next.models.chat;
        const configured = !chatChanged ? catalog.configuredChat : named === undefined ? undefined : chatId(catalog, isModelPath(named) ? await servedFromPath(named, next, catalog, runtime, log) : named);
        const defaultChat = catalog.defaultChatFor(configured);
        const gate = live.includes("router.routes") || chatChanged ? await gated({ defaultChat, routes: next.router.routes }, next.eval.gate) : [];
        if (live.some((k) => k.startsWith("security."))) http.setGuard(new Guard({ host: config.host, port: config.port, ...next.security }));
        if (live.some((k) => k.startsWith("router."))) routerSide.routing.router.reconfigure(next.router);
        await switchDefault(defaultChat, () => (catalog.configuredChat = configured));
        running = withSettings(running, next, live);
        return { applied: live, restart, gate };
      }),
    setDefaultChat: (name) =>
      serially(async () => {
        if (catalog.configuredChat !== undefined) throw new DefaultFixedError(`the configuration's models.chat sets the default chat model (${catalog.configuredChat}); change it there and reload`);
        const id = chatId(catalog, name);
        const previous = catalog.defaults.chat;
        const gate = await gated({ defaultChat: id, routes: running.router.routes });
        await switchDefault(id, () => catalog.storeDefaultChat(id));
        return { chat: id, previous, gate };
      }),
    async stop() {
      models.notReadyReason = "shutting down";
      await online?.stop();
      await http.shutdown(config.shutdownGraceMs);
      // the timers that read the stores (alert evaluations read /metrics, whose gauges count queue and usage rows)
      // stop before any store closes
      for (const h of housekeeping) h.stop();
      alerts.stop();
      await ready.catch(() => undefined);
      await routerSide.stop();
      await models.close();
      await webhooks?.stop();
      await memoryCheckpointer.stop();
      memoryDb.close();
      responsesDb.close();
      onlineSamples?.close();
      catalog.user?.close();
    },
  };
  return daemon;
}
