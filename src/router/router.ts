/**
 * The latency-threshold router: resolves a request's route, gathers the facts the policy needs (predicted local
 * and cloud latency, difficulty, what the redaction guard lets out, the cloud token budget, connectivity and the
 * circuit breakers) and returns the decision with the messages that may leave the device.
 */
import type { ConfiguredProvider } from "../cloud/providers.js";
import type { CloudMessage } from "../cloud/types.js";
import type { DifficultyEstimator } from "./difficulty.js";
import { LatencyModel, type Rates } from "./latencyModel.js";
import { escalate, preferLocal, type Decision } from "./policy.js";
import { guardMessages, type FindingCounts } from "./redaction.js";
import { RouteConfig, type Privacy, type RouterConfig } from "./schemas.js";
import type { TokenBudget } from "./tokenBudget.js";

export interface RouterDeps {
  config: RouterConfig;
  clouds: ReadonlyMap<string, ConfiguredProvider>;
  /** Whether a model name is one of the device's models. */
  isLocal(name: string): boolean;
  /** The default chat model, which answers routes that name no local model (it may change while the daemon runs). */
  defaultLocal: () => string;
  difficulty?: DifficultyEstimator;
  budget?: TokenBudget;
  connectivity?: { readonly online: boolean };
}

export interface ResolvedRoute {
  /** The requested model name. */
  name: string;
  local: string;
  cloud: string[];
  config: RouteConfig;
}

export interface RoutingInput {
  route: ResolvedRoute;
  messages: CloudMessage[];
  /** Prompt tokens as the local model counts them. */
  promptTokens: number;
  maxTokens: number;
  /** The prompt fits the local model's context. */
  fits: boolean;
  budgetMs: number;
  privacy: Privacy;
  allowDefer: boolean;
  /** Whose cloud token budget pays (see keyIdOf in tokenBudget.ts). */
  keyId: string;
  /** The local model's latency keys (its load level's, then its own), its lane's predicted wait, and whether other requests decode on it. */
  local: { keys: readonly string[]; waitMs: number; busy: boolean };
  /** Why only the device may answer this request, if so (e.g. a grammar only the local engine applies). */
  localOnly?: string;
  /** Skip the local preference: the device already declined (cascade mode). */
  escalated?: { escalate: string; detail: string };
}

export interface Routed {
  decision: Decision;
  /** The messages as they may leave the device (redacted by the route's policy); for the cloud and the queue. */
  outgoing: CloudMessage[];
  redactions: number;
  redactionCounts?: FindingCounts;
  difficulty?: number;
  /** Time the decision took, tokenizing excluded. */
  decisionMs: number;
}

export const cloudKey = (provider: string) => `cloud:${provider}`;

/** Latency keys of a local model: at a load level (sequences decoding at once, this one included), then overall. */
export const localKeys = (model: string, device: string, load: number) => [`${model}@${device}#${load}`, `${model}@${device}`];

export class Router {
  readonly latency: LatencyModel;
  private routes = new Map<string, RouteConfig>();
  private anyLocal!: RouteConfig;
  private priors!: { cloud: Rates; local: Rates };

  constructor(private readonly deps: RouterDeps) {
    this.latency = new LatencyModel((key) => (key.startsWith("cloud:") ? this.priors.cloud : this.priors.local));
    this.reconfigure(deps.config);
  }

  /** Takes a new policy (a configuration reload); what was measured of each model and provider is kept. */
  reconfigure(config: RouterConfig): void {
    this.deps.config = config;
    const { priors } = config;
    this.priors = {
      cloud: { fixedMs: priors.cloudFirstByteMs, perPromptTokenMs: 0, perOutputTokenMs: 1000 / priors.cloudTokensPerSecond },
      local: { fixedMs: priors.localOverheadMs, perPromptTokenMs: 1000 / priors.prefillTokensPerSecond, perOutputTokenMs: 1000 / priors.decodeTokensPerSecond },
    };
    this.routes = new Map(config.routes.map((route) => [route.model, route]));
    // without a "*" route, every local model escalates to every configured provider, in order
    this.anyLocal = this.routes.get("*") ?? RouteConfig.parse({ model: "*", cloud: [...this.deps.clouds.keys()] });
    this.deps.budget?.setLimits({ perHour: config.budgets.perKeyHourTokens, perDay: config.budgets.perKeyDayTokens });
  }

  get defaultBudgetMs(): number {
    return this.deps.config.defaultBudgetMs;
  }

  /** The route of a requested model name; undefined when the name is neither routed nor local (the caller's 404). */
  routeFor(name: string): ResolvedRoute | undefined {
    const config = this.routes.get(name) ?? (this.deps.isLocal(name) ? this.anyLocal : undefined);
    if (!config) return undefined;
    return { name, local: config.local ?? (this.deps.isLocal(name) ? name : this.deps.defaultLocal()), cloud: config.cloud, config };
  }

  get providers(): ReadonlyMap<string, ConfiguredProvider> {
    return this.deps.clouds;
  }

  async decide(input: RoutingInput): Promise<Routed> {
    const started = performance.now();
    const { route } = input;
    const hasCloud = route.cloud.length > 0;
    const localMs = this.latency.predict(input.local.keys, { promptTokens: input.promptTokens, outputTokens: input.maxTokens, waitMs: input.local.waitMs }).ms * this.deps.config.safetyFactor;
    // difficulty matters only where the device could answer in time
    const mayStay = !input.escalated && !input.localOnly && input.privacy !== "local_only" && hasCloud && input.fits && localMs <= input.budgetMs;
    const difficulty = mayStay && this.deps.difficulty ? await this.difficultyOf(input.messages) : undefined;
    const first =
      input.escalated ??
      preferLocal({
        privacy: input.privacy,
        localOnly: input.localOnly,
        budgetMs: input.budgetMs,
        hasCloud,
        fits: input.fits,
        predictedMs: localMs,
        difficulty,
        route: route.config,
        busy: input.local.busy,
        offloadLongerThanMs: this.deps.config.offloadWhenBusy ? this.deps.config.defaultBudgetMs : undefined,
      });
    if ("route" in first) return { decision: first, outgoing: input.messages, redactions: 0, difficulty, decisionMs: performance.now() - started };

    const guard = guardMessages(input.messages, route.config.redaction);
    const budget = this.deps.budget?.check(input.keyId, input.promptTokens + input.maxTokens) ?? { ok: true as const };
    const available = route.cloud
      .filter((id) => {
        const state = this.deps.clouds.get(id)?.breaker.state;
        return state !== undefined && state !== "open";
      })
      .map((id) => ({
        id,
        predictedMs: this.latency.predict(cloudKey(id), { promptTokens: input.promptTokens, outputTokens: input.maxTokens }).ms,
        measured: this.latency.observations(cloudKey(id)) > 0,
      }));
    const decision = escalate({
      escalate: first,
      localFits: input.fits,
      localPredictedMs: localMs,
      budgetMs: input.budgetMs,
      allowDefer: input.allowDefer,
      online: this.deps.connectivity?.online ?? true,
      available,
      guardAllows: guard.allowed,
      budget: budget.ok ? budget : { ok: false, window: budget.window, limit: budget.limit },
      route: route.config,
    });
    return { decision, outgoing: guard.messages, redactions: guard.total, redactionCounts: guard.counts, difficulty, decisionMs: performance.now() - started };
  }

  /** With labelled examples, features and similarity; the features alone when there are none or embedding fails. */
  private async difficultyOf(messages: CloudMessage[]): Promise<number> {
    const estimator = this.deps.difficulty!;
    if (this.deps.config.examples.length === 0) return estimator.featuresOnly(messages);
    return estimator.estimate(messages).then(
      (e) => e.score,
      () => estimator.featuresOnly(messages),
    );
  }
}
