/**
 * One request on its way through the router, whatever surface it came in on: the decision carried out — on the
 * device (optionally as a cascade), in the cloud with fallback, in the offline queue, or refused — and recorded with
 * its predicted and actual latency in the headers, the request log and /metrics.
 */
import type { Token } from "node-llama-cpp";
import type { JsonConstraint } from "../engines/llama/grammar/constraints.js";
import type { ChatBackend } from "../models/modelRegistry.js";
import { CascadeEscalation, ConfidenceProbe } from "../router/cascadeProbe.js";
import { CloudChainError, noTargetReached, type ChainFailure } from "../router/cloudChain.js";
import type { Decision } from "../router/policy.js";
import { cloudKey, type Routed, type RoutingInput } from "../router/router.js";
import type { CascadeConfig } from "../router/schemas.js";
import { shownKeyId } from "../router/tokenBudget.js";
import { ApiError } from "../http/errors.js";
import { HeldStream, type EventStream } from "../http/eventStream.js";
import { sendJson } from "../http/respond.js";
import { setRouteHeaders } from "../http/routing.js";
import type { RequestContext } from "../http/routes.js";
import { answerFromCloud, cloudRequestOf } from "./cloudAnswer.js";
import { answerOnDevice, samplingOf, type GenerationDeps, type GenerationParams } from "./localAnswer.js";
import type { CoreRequest } from "./request.js";
import type { RoutingDeps } from "./routingDeps.js";
import type { Answer, Surface } from "./surface.js";

/** What the device needs to answer: the rendered prompt and its grammar. */
export interface LocalPlan {
  prompt: Token[];
  constraint?: JsonConstraint;
  tools?: GenerationParams["tools"];
}

const describeFailures = (failures: ChainFailure[]) => failures.map((f) => `${f.target}: ${f.kind}`).join(", ");

export class RoutedRequest {
  /** Who answered, for the log: "local", a cloud target, or "queue". */
  private servedBy = "local";
  private fallback?: string;
  private cascade?: string;
  /** The answer given, when it was given whole (not queued, not broken off). */
  private answer?: Answer;
  /** The cascade probe's mean log-probability, when the device's answer stood after one. */
  private confidence?: number;

  constructor(
    private readonly ctx: RequestContext,
    private readonly deps: GenerationDeps & { routing: RoutingDeps },
    private readonly request: CoreRequest,
    private readonly surface: Surface,
    private readonly backend: ChatBackend,
    private readonly input: RoutingInput,
    private readonly local: LocalPlan,
  ) {}

  /** Resolves with the answer given, or undefined when it was queued or its stream broke off. */
  async serve(): Promise<Answer | undefined> {
    const { router } = this.deps.routing;
    const routed = await router.decide(this.input);
    let decision = routed.decision;
    setRouteHeaders(this.ctx.res, decision, routed);
    try {
      decision = await this.follow(routed);
    } finally {
      this.record(decision, routed);
    }
    return this.answer;
  }

  /** Carries out a decision; resolves with the decision that finally held (a cascade may escalate). */
  private async follow(routed: Routed): Promise<Decision> {
    const { decision } = routed;
    switch (decision.route) {
      case "reject": {
        const r = decision.reject!;
        const type = r.status === 429 ? "rate_limit_error" : r.status === 403 ? "permission_error" : "server_error";
        throw new ApiError(r.status, r.message, type, r.code);
      }
      case "queue":
        this.defer(routed);
        return decision;
      case "cloud":
        await this.cloud(decision, routed);
        return decision;
      case "local": {
        const cascade = this.input.route.config.cascade;
        if (!cascade || decision.reason !== "within_budget") {
          await this.onDevice();
          return decision;
        }
        return this.cascadeFrom(cascade, decision);
      }
    }
  }

  private async onDevice(probe?: ConfidenceProbe, stream: EventStream | undefined = this.request.stream ? this.surface.stream(this.ctx.res) : undefined): Promise<void> {
    const { request } = this;
    this.backend.model.assertFits(this.local.prompt, request.promptParam);
    const answer = await answerOnDevice(
      this.ctx,
      this.backend,
      this.deps.metrics,
      {
        prompt: this.local.prompt,
        maxTokens: request.maxTokens,
        sampling: samplingOf(request, this.backend.entry.defaults),
        stop: request.stop,
        constraint: this.local.constraint,
        stream,
        deadlineMs: request.deadlineMs,
        priority: request.priority,
        logprobs: request.logprobs,
        tools: this.local.tools,
        probe,
      },
      this.surface.writer(this.backend.entry.id),
    );
    this.answer = answer;
    if (answer) {
      const { timings } = answer;
      const observation = { promptTokens: answer.promptTokens, promptMs: timings.promptMs, outputTokens: answer.completionTokens, outputMs: timings.generateMs };
      for (const key of this.input.local.keys) this.deps.routing.router.latency.observe(key, observation);
    }
  }

  /** Local first; the first tokens' confidence decides whether that answer stands. */
  private async cascadeFrom(cascade: CascadeConfig, decision: Decision): Promise<Decision> {
    const held = this.request.stream ? new HeldStream(this.surface.stream(this.ctx.res)) : undefined;
    const probe = new ConfidenceProbe(cascade, () => {
      this.confidence = probe.meanLogprob;
      this.ctx.res.setHeader("x-edged-cascade", `kept: mean log-probability ${probe.meanLogprob!.toFixed(2)} >= ${cascade.minMeanLogprob}`);
      held?.release();
    });
    try {
      await this.onDevice(probe, held);
      return decision;
    } catch (error) {
      if (!(error instanceof CascadeEscalation)) throw error;
      this.cascade = `escalated: ${error.message}`;
      this.ctx.res.setHeader("x-edged-cascade", this.cascade);
      const routed = await this.deps.routing.router.decide({ ...this.input, escalated: { escalate: "low_confidence", detail: error.message } });
      setRouteHeaders(this.ctx.res, routed.decision, routed);
      return this.follow(routed);
    }
  }

  private async cloud(decision: Decision, routed: Routed): Promise<void> {
    const { router, metrics, budget, observer } = this.deps.routing;
    for (const [kind, n] of Object.entries(routed.redactionCounts ?? {})) if (n) metrics.redactions.inc({ kind }, n);
    try {
      const { answer, target } = await answerFromCloud(this.ctx, {
        targets: decision.targets,
        providers: router.providers,
        request: cloudRequestOf(this.request, routed.outgoing),
        stream: this.request.stream,
        surface: this.surface,
        tools: this.local.tools && { names: this.local.tools.names, violation: this.local.tools.constraint.violation },
        observer,
        beforeAnswer: (target, failures) => {
          this.servedBy = target;
          this.ctx.res.setHeader("x-edged-cloud-target", target);
          if (failures.length) this.fallbackHeader(target, failures);
        },
      });
      this.answer = answer;
      budget?.record(this.input.keyId, answer.promptTokens + answer.completionTokens);
      metrics.cloudTokens.inc({ via: "direct" }, answer.promptTokens + answer.completionTokens);
      router.latency.observe(cloudKey(target), {
        fixedMs: answer.timings.promptMs,
        promptTokens: 0,
        promptMs: 0,
        outputTokens: answer.completionTokens,
        outputMs: answer.timings.generateMs,
      });
    } catch (error) {
      if (!(error instanceof CloudChainError)) throw error;
      if (this.input.allowDefer && noTargetReached(error)) {
        this.fallbackHeader("queue", error.failures);
        this.ctx.res.setHeader("x-edged-route", "queue");
        return this.defer(routed);
      }
      if (!decision.fallbackToLocal) {
        throw new ApiError(502, `No cloud target could answer: ${describeFailures(error.failures)}`, "server_error", "cloud_unavailable");
      }
      this.fallbackHeader("local", error.failures);
      this.ctx.res.setHeader("x-edged-route", "local");
      await this.onDevice();
    }
  }

  private fallbackHeader(to: string, failures: ChainFailure[]): void {
    this.fallback = `${to} (${describeFailures(failures)})`;
    this.ctx.res.setHeader("x-edged-fallback", this.fallback);
  }

  private defer(routed: Routed): void {
    const queue = this.deps.routing.queue!;
    const idempotencyKey = this.ctx.req.headers["idempotency-key"];
    const { job } = queue.defer({ route: this.request.model, keyId: this.input.keyId, request: cloudRequestOf(this.request, routed.outgoing) }, typeof idempotencyKey === "string" ? idempotencyKey : undefined);
    this.servedBy = "queue";
    sendJson(this.ctx.res, 202, queue.view(job), { location: `/v1/queue/${job.id}` });
  }

  private record(decision: Decision, routed: Routed): void {
    const { metrics, log } = this.deps.routing;
    const actualMs = performance.now() - this.ctx.started;
    const route = this.fallback?.startsWith("local") ? "local" : decision.route;
    metrics.decisions.inc({ route: decision.route, reason: decision.reason });
    if (decision.predictedMs !== undefined) metrics.predicted.observe(decision.predictedMs / 1000, { route: decision.route });
    if (route === "local" || route === "cloud") {
      metrics.latency.observe(actualMs / 1000, { route });
      metrics.budget.inc({ route, met: String(actualMs <= this.input.budgetMs) });
    }
    const record = {
      event: "route",
      model: this.request.model,
      route,
      reason: decision.reason,
      served_by: this.servedBy,
      fallback: this.fallback,
      cascade: this.cascade,
      budget_ms: this.input.budgetMs,
      predicted_ms: decision.predictedMs === undefined ? undefined : Math.round(decision.predictedMs),
      actual_ms: Math.round(actualMs * 10) / 10,
      decision_ms: Math.round(routed.decisionMs * 1000) / 1000,
      prompt_tokens: this.input.promptTokens,
      max_tokens: this.input.maxTokens,
      redactions: routed.redactions,
      difficulty: routed.difficulty,
      path: this.ctx.url.pathname,
      at: new Date().toISOString(),
    };
    log(JSON.stringify(record));
    this.deps.routing.recent?.push(record);
    if (route === "local" && this.servedBy === "local" && this.answer) {
      const { input } = this;
      this.deps.routing.online?.offer({
        route: this.request.model,
        redaction: input.route.config.redaction,
        privacy: input.privacy,
        model: this.backend.entry.id,
        request: this.request,
        answer: this.answer,
        difficulty: routed.difficulty,
        confidence: this.confidence,
        localMs: actualMs,
      });
    }
    // each call returned: its tool, whose key, which route, and how big its arguments were (never their text)
    for (const call of this.answer?.toolCalls ?? []) {
      metrics.toolCalls.inc({ tool: call.name, route });
      log(JSON.stringify({ event: "tool_call", tool: call.name, key_id: shownKeyId(this.input.keyId), route, arguments_bytes: Buffer.byteLength(call.arguments) }));
    }
  }
}
