/**
 * Online evaluation: `eval.online.sampleRate` of the requests the device answered are answered again by a
 * reference in the background, one at a time at batch priority, and the two answers' agreement is stored per
 * model, route and kind (onlineSamples.ts) and shown in /metrics. A cloud reference never sees a local_only
 * request, nor one the route's redaction policy would change or keep; a request with an output format is not sent
 * to one either (the cloud has no grammar). A local reference is asked through the daemon's own API with
 * x-edged-privacy: local_only, which keeps it on the device and keeps it from being sampled in turn.
 */
import { setTimeout as sleep } from "node:timers/promises";
import PQueue from "p-queue";
import type { ConfiguredProvider } from "../cloud/providers.js";
import { wireMessage, wireTool, wireToolChoice } from "../cloud/openaiProvider.js";
import { cloudRequestOf } from "../core/cloudAnswer.js";
import { messagesOf, type CoreRequest } from "../core/request.js";
import type { Answer } from "../core/surface.js";
import { firstToAnswer, type ChainObserver } from "../router/cloudChain.js";
import { guardMessages, type RedactionPolicy } from "../router/redaction.js";
import type { Counter, Labels } from "../telemetry/metrics.js";
import { Gauge, type Registry } from "../telemetry/metrics.js";
import { agreementOf, kindOf, type Answered } from "./agreement.js";
import type { EvalClient } from "./client.js";
import type { OnlineSamples, Series, SeriesAgreement } from "./onlineSamples.js";
import type { EvalCase } from "./suite.js";

/** A request the device answered whole, as the request core hands it over. */
export interface Served {
  route: string;
  redaction: RedactionPolicy;
  privacy: "local_only" | "default";
  model: string;
  request: CoreRequest;
  answer: Answer;
  difficulty?: number;
  confidence?: number;
  localMs: number;
}

export interface Reference {
  name: string;
  /** Why this request may not be sent to the reference, or undefined when it may. */
  refuses(served: Served): string | undefined;
  answer(request: CoreRequest, signal: AbortSignal): Promise<Answered>;
  /** It answers on the device, so it waits for the device to be idle and gives way to any request that arrives. */
  onDevice: boolean;
}

export function cloudReference(id: string, providers: ReadonlyMap<string, ConfiguredProvider>, observer: ChainObserver, onTokens: (tokens: number) => void): Reference {
  return {
    name: id,
    refuses(served) {
      if (served.privacy === "local_only") return "local_only";
      if (served.request.format) return "format";
      const guard = guardMessages(messagesOf(served.request.prompt), served.redaction);
      return !guard.allowed || guard.total > 0 ? "redaction" : undefined;
    },
    onDevice: false,
    async answer(request, signal) {
      const { value } = await firstToAnswer([id], providers, (p) => p.chat(cloudRequestOf(request, messagesOf(request.prompt)), { signal }), observer, signal);
      onTokens(value.usage.promptTokens + value.usage.completionTokens);
      return { text: value.text, toolCalls: value.toolCalls };
    },
  };
}

/** The request as a chat completion for the daemon's own API. */
function caseOf(request: CoreRequest): EvalCase {
  const { format } = request;
  return {
    id: "online",
    messages: messagesOf(request.prompt).map(wireMessage),
    max_tokens: request.maxTokens,
    temperature: request.sampling.temperature ?? 0,
    ...(request.tools.length && { tools: request.tools.map(wireTool), tool_choice: request.toolChoice && wireToolChoice(request.toolChoice) }),
    ...(format && { response_format: format.type === "json_object" ? format : { type: "json_schema", json_schema: { name: "reference", schema: format.schema } } }),
  } as EvalCase;
}

/** `client` (the daemon's own API, once it listens) sends x-edged-privacy: local_only and batch priority. */
export function localReference(model: string, client: () => EvalClient): Reference {
  return {
    name: model,
    refuses: (served) => (served.privacy === "local_only" ? "local_only" : served.model === model ? "same_model" : undefined),
    onDevice: true,
    answer: (request, signal) => client().answer(model, caseOf(request), signal),
  };
}

/** How often a reference on the device looks whether the device is idle, or no longer is. */
const IDLE_POLL_MS = 5;

export interface OnlineOptions {
  sampleRate: number;
  window: number;
  maxPending: number;
  reference: Reference;
  samples: OnlineSamples;
  embed(texts: string[]): Promise<ArrayLike<number>[]>;
  /** Samples by outcome: compared, failed, dropped_busy, or the reason one was not sent; gave_way counts references interrupted. */
  outcomes: Counter;
  /** Requests running or waiting on the device's lanes (a reference on the device counts itself). */
  deviceLoad(): number;
  log(line: string): void;
  random?: () => number;
}

const seriesKey = (s: Series) => JSON.stringify([s.model, s.route, s.kind]);

export class OnlineEvaluator {
  private readonly queue = new PQueue({ concurrency: 1 });
  /** Each series' agreement, read whole at start and then one series again per sample recorded. */
  private readonly series: Map<string, SeriesAgreement>;

  constructor(private readonly options: OnlineOptions) {
    this.series = new Map(options.samples.agreement(options.window).map((s) => [seriesKey(s), s]));
  }

  /** Adds the agreement gauges; a baseline is shown once a series has `window` samples. */
  register(registry: Registry): void {
    const labels = (s: SeriesAgreement): Labels => ({ model: s.model, route: s.route, kind: s.kind });
    registry.add(new Gauge("edged_eval_agreement", "Online evaluation: mean agreement with the reference over the latest eval.online.window samples", () => [...this.series.values()].map((s): [Labels, number] => [labels(s), s.current])));
    registry.add(
      new Gauge("edged_eval_agreement_baseline", "Online evaluation: mean agreement over a series' first eval.online.window samples", () =>
        [...this.series.values()].flatMap((s): [Labels, number][] => (s.baseline === undefined ? [] : [[labels(s), s.baseline]])),
      ),
    );
  }

  offer(served: Served): void {
    const { options } = this;
    if (options.sampleRate === 0 || (options.random ?? Math.random)() >= options.sampleRate) return;
    const refused = options.reference.refuses(served);
    if (refused) return options.outcomes.inc({ outcome: `skipped_${refused}` });
    if (this.queue.size + this.queue.pending >= options.maxPending) return options.outcomes.inc({ outcome: "dropped_busy" });
    void this.queue.add(() => this.compare(served)).catch((error: Error) => {
      options.outcomes.inc({ outcome: "failed" });
      options.log(`online evaluation: the reference ${options.reference.name} could not answer: ${error.message}`);
    });
  }

  /**
   * The reference's answer. One on the device starts only once nothing else runs or waits there, and is cancelled
   * as soon as a request arrives, to start again once the device is idle: sampled work never holds a client's
   * request up by more than a poll and a cancelled step.
   */
  private async referenceAnswer(request: CoreRequest): Promise<{ answer: Answered; ms: number }> {
    const { reference, deviceLoad, outcomes } = this.options;
    for (;;) {
      if (reference.onDevice) while (deviceLoad() > 0) await sleep(IDLE_POLL_MS);
      const started = performance.now();
      const giveWay = new AbortController();
      const watch = reference.onDevice ? setInterval(() => deviceLoad() > 1 && giveWay.abort(new Error("gave way")), IDLE_POLL_MS) : undefined;
      try {
        return { answer: await reference.answer(request, giveWay.signal), ms: performance.now() - started };
      } catch (error) {
        if (!giveWay.signal.aborted) throw error;
        outcomes.inc({ outcome: "gave_way" });
      } finally {
        clearInterval(watch);
      }
    }
  }

  private async compare(served: Served): Promise<void> {
    const { options } = this;
    const { answer: reference, ms: referenceMs } = await this.referenceAnswer(served.request);
    const kind = kindOf(served.answer, reference, served.request.format !== undefined);
    const agreement = await agreementOf(served.answer, reference, kind, options.embed);
    const series = { model: served.model, route: served.route, kind };
    options.samples.record({
      at: Date.now(),
      ...series,
      agreement,
      reference: options.reference.name,
      difficulty: served.difficulty,
      confidence: served.confidence,
      localMs: served.localMs,
      referenceMs,
      promptTokens: served.answer.promptTokens,
      completionTokens: served.answer.completionTokens,
    });
    this.series.set(seriesKey(series), options.samples.agreementOf(series, options.window));
    options.outcomes.inc({ outcome: "compared" });
  }

  /** Drops the samples waiting and waits for the one in flight. */
  async stop(): Promise<void> {
    this.queue.clear();
    await this.queue.onIdle();
  }
}
