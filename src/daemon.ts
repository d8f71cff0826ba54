/**
 * The composition root of `edged serve`: listens at once, answers 503 while the manifest's models are
 * verified and loaded, then serves them; `stop` drains and releases everything.
 */
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Config } from "./config/schema.js";
import { LlamaChatModel } from "./engines/llama/chatModel.js";
import { GrammarCache } from "./engines/llama/grammars.js";
import { llamaRuntime } from "./engines/llama/runtime.js";
import { OnnxEmbedder } from "./engines/onnx/onnxEmbedder.js";
import { probe } from "./hardware/probe.js";
import { liveSources } from "./hardware/sources.js";
import { adminRoutes } from "./http/admin/health.js";
import { hardwareRoute, type HardwareView } from "./http/admin/hardware.js";
import { Guard } from "./http/guard.js";
import { chatCompletionsRoute } from "./http/openai/chatCompletions.js";
import { completionsRoute } from "./http/openai/completions.js";
import { embeddingsRoute } from "./http/openai/embeddings.js";
import { modelRoutes } from "./http/openai/models.js";
import { ollamaGenerateRoutes } from "./http/ollama/generate.js";
import { ollamaModelRoutes } from "./http/ollama/models.js";
import { RouteTable } from "./http/routes.js";
import { HttpServer } from "./http/server.js";
import { loadManifest, ManifestError, verifyModelFile, type LlamaModelEntry, type LoadedManifest, type ModelEntry, type OnnxModelEntry } from "./models/manifest.js";
import { ServedModels } from "./models/servedModels.js";
import { placeModel } from "./scheduler/plan.js";
import { placeOnnx } from "./scheduler/placement.js";
import { SlotScheduler } from "./scheduler/slotScheduler.js";
import { ServerMetrics } from "./telemetry/serverMetrics.js";

export interface Daemon {
  url: string;
  /** The models this daemon serves, by id, known before they are loaded. */
  plan: { chat: string; embedding?: string };
  address: AddressInfo;
  models: ServedModels;
  /** Settles when every configured model is loaded; rejects with the reason one could not be. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export type Log = (message: string) => void;

function pick<E extends ModelEntry["engine"]>(manifest: LoadedManifest, id: string, engine: E): Extract<ModelEntry, { engine: E }> {
  const entry = manifest.models.find((m) => m.id === id);
  if (!entry) throw new ManifestError(`model "${id}" is not in the manifest (known: ${manifest.models.map((m) => m.id).join(", ")})`);
  if (entry.engine !== engine) throw new ManifestError(`model "${id}" is an ${entry.engine} model, not ${engine}`);
  return entry as Extract<ModelEntry, { engine: E }>;
}

export async function startDaemon(config: Config, log: Log): Promise<Daemon> {
  const manifest = await loadManifest(config.models.manifest);
  const chatEntry: LlamaModelEntry = pick(manifest, config.models.chat ?? manifest.defaults.chat, "llama");
  const embeddingId = config.models.embedding === false ? undefined : (config.models.embedding ?? manifest.defaults.embedding);
  const embeddingEntry: OnnxModelEntry | undefined = embeddingId ? pick(manifest, embeddingId, "onnx") : undefined;
  await mkdir(config.dataDir, { recursive: true });

  const models = new ServedModels();
  const hardware: HardwareView = {};
  const metrics = new ServerMetrics(() => models.chat?.scheduler);
  let grammars: GrammarCache | undefined;
  const deps = {
    models,
    metrics,
    grammars: () => grammars!,
    limits: config.limits,
  };
  const routes = new RouteTable([
    ...adminRoutes(models, metrics),
    hardwareRoute(hardware),
    ...modelRoutes(models),
    chatCompletionsRoute(deps),
    completionsRoute(deps),
    embeddingsRoute(deps),
    ...ollamaGenerateRoutes(deps),
    ...ollamaModelRoutes({ models, manifest, startedAt: new Date(), limits: config.limits }),
  ]);
  const guard = new Guard({ host: config.host, port: config.port, ...config.security });
  const http = new HttpServer(routes, guard, {
    onResponse: (route, status, seconds) => metrics.observeResponse(route, status, seconds),
    onInternalError: (error, route) => log(`internal error on ${route}: ${(error as Error).stack ?? String(error)}`),
  });
  const address = await http.listen(config.port, config.host);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  const ready = (async () => {
    const llama = await llamaRuntime();
    grammars = new GrammarCache(llama);
    const inventory = await probe(liveSources());
    hardware.inventory = inventory;
    const chatPath = await verifyModelFile(manifest, chatEntry);
    const placement = await placeModel(chatEntry, manifest, inventory, llama, config.llama.slots);
    log(`placing ${chatEntry.id}: ${placement.reason}`);
    const model = await LlamaChatModel.load(llama, chatPath, {
      gpuLayers: placement.gpuLayers ?? 0,
      threads: config.llama.threads,
      slots: config.llama.slots,
      contextSize: config.llama.contextSize ?? chatEntry.contextSize,
      batchSize: config.llama.batchSize,
    });
    models.chat = { entry: chatEntry, model, scheduler: new SlotScheduler({ slots: config.llama.slots, maxWaiting: config.queue.maxWaiting }) };
    log(`chat model ${chatEntry.id} (${chatEntry.quant}) on ${llama.gpu || "cpu"}: ${config.llama.slots} slots x ${model.sequenceContextSize} tokens, ${config.llama.threads} llama.cpp thread(s)`);
    if (embeddingEntry) {
      log(`placing ${embeddingEntry.id}: ${placeOnnx(embeddingEntry, inventory).reason}`);
      const embedder = await OnnxEmbedder.load(await verifyModelFile(manifest, embeddingEntry), embeddingEntry, {
        threads: config.onnx.threads,
        devices: embeddingEntry.devices,
        gpuPresent: inventory.gpus.length > 0,
      });
      models.embedding = { entry: embeddingEntry, embedder };
      log(`embedding model ${embeddingEntry.id} on onnxruntime ${embedder.provider.chosen.name} (${embedder.provider.chosen.reason})`);
    }
    models.notReadyReason = undefined;
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
      await models.chat?.model.dispose();
      await models.embedding?.embedder.dispose();
    },
  };
}
