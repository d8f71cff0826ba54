/**
 * The routing policy as two pure steps over measured facts: whether the device should answer, and if not,
 * where the request goes instead. Each decision carries a reason code and a sentence for people.
 */
import type { Privacy, RouteConfig } from "./schemas.js";

export type RouteKind = "local" | "cloud" | "queue" | "reject";

export interface Decision {
  route: RouteKind;
  /** Machine-readable: within_budget, over_budget_locally, complex_prompt, local_only, ... */
  reason: string;
  detail: string;
  /** Predicted latency of the chosen path (ms), when there is one. */
  predictedMs?: number;
  /** Cloud providers to try in order (route "cloud"). */
  targets: string[];
  /** The device answers when every cloud target failed. */
  fallbackToLocal: boolean;
  reject?: { status: number; code: string; message: string };
}

export interface LocalFacts {
  privacy: Privacy;
  /** Why only the device may answer, if so. */
  localOnly?: string;
  budgetMs: number;
  /** Whether the route has cloud targets at all. */
  hasCloud: boolean;
  /** Prompt plus max tokens fit the local model's context. */
  fits: boolean;
  /** Predicted local latency, safety factor applied. */
  predictedMs: number;
  /** Difficulty score in [0, 1], when it was estimated. */
  difficulty?: number;
  route: Pick<RouteConfig, "difficultyThreshold">;
  /** Set when long requests should leave a busy device: what counts as long (the device's own threshold). */
  offloadLongerThanMs?: number;
  /** Other requests are decoding on the device now. */
  busy?: boolean;
}

const local = (reason: string, detail: string, predictedMs: number): Decision => ({ route: "local", reason, detail, predictedMs, targets: [], fallbackToLocal: false });
const ms = (x: number) => `${Math.round(x)} ms`;

/** Step one: the device answers, or the request wants the cloud (the reason it does). */
export function preferLocal(f: LocalFacts): Decision | { escalate: string; detail: string } {
  if (f.privacy === "local_only") return local("local_only", "the request is local_only", f.predictedMs);
  if (f.localOnly) return local("local_required", f.localOnly, f.predictedMs);
  if (!f.hasCloud) return local("no_cloud_route", "no cloud target is configured for this model", f.predictedMs);
  if (!f.fits) return { escalate: "exceeds_local_context", detail: "prompt and max tokens exceed the local model's context" };
  if (f.difficulty !== undefined && f.difficulty >= f.route.difficultyThreshold) {
    return { escalate: "complex_prompt", detail: `difficulty ${f.difficulty.toFixed(2)} >= ${f.route.difficultyThreshold}` };
  }
  if (f.predictedMs > f.budgetMs) return { escalate: "over_budget_locally", detail: `local predicted ${ms(f.predictedMs)} > budget ${ms(f.budgetMs)}` };
  if (f.busy && f.offloadLongerThanMs !== undefined && f.predictedMs > f.offloadLongerThanMs) {
    return { escalate: "offload_busy_device", detail: `local predicted ${ms(f.predictedMs)} > ${ms(f.offloadLongerThanMs)} on a busy device` };
  }
  return local("within_budget", `local predicted ${ms(f.predictedMs)} <= budget ${ms(f.budgetMs)}`, f.predictedMs);
}

export interface CloudFacts {
  /** Why the request wants the cloud (step one's answer). */
  escalate: { escalate: string; detail: string };
  localFits: boolean;
  localPredictedMs: number;
  budgetMs: number;
  allowDefer: boolean;
  online: boolean;
  /** Targets whose circuit breaker lets a call through, in order, with their predicted latency (`measured` once observed). */
  available: { id: string; predictedMs: number; measured: boolean }[];
  /** The redaction guard lets the request leave. */
  guardAllows: boolean;
  budget: { ok: true } | { ok: false; window: "hour" | "day"; limit: number };
  route: Pick<RouteConfig, "overBudget" | "fallbackToLocal">;
}

const reject = (reason: string, status: number, code: string, message: string): Decision => ({
  route: "reject",
  reason,
  detail: message,
  targets: [],
  fallbackToLocal: false,
  reject: { status, code, message },
});

/** Step two: the cloud, the device after all, the offline queue, or a refusal. */
export function escalate(f: CloudFacts): Decision {
  const why = `${f.escalate.escalate}: ${f.escalate.detail}`;
  if (!f.guardAllows) {
    return f.localFits
      ? local("sensitive_kept_local", `${why}; the route's redaction policy keeps sensitive content on the device`, f.localPredictedMs)
      : reject("sensitive_content", 403, "sensitive_content", "The request holds sensitive content that this route may not send to the cloud, and it does not fit the local model");
  }
  if (!f.budget.ok) {
    if (f.route.overBudget === "local" && f.localFits) return local("cloud_budget_exhausted", `${why}; the ${f.budget.window}ly cloud token budget of ${f.budget.limit} is used up`, f.localPredictedMs);
    return reject("cloud_budget_exceeded", 429, "cloud_budget_exceeded", `The ${f.budget.window}ly cloud token budget of ${f.budget.limit} tokens for this API key is used up`);
  }
  if (!f.online || f.available.length === 0) {
    const down = f.online ? "every cloud target's circuit breaker is open" : "the cloud is unreachable";
    if (f.allowDefer) return { route: "queue", reason: "cloud_unreachable_deferred", detail: `${why}; ${down}: queued`, targets: [], fallbackToLocal: false };
    if (f.localFits) return local("cloud_unreachable", `${why}; ${down}`, f.localPredictedMs);
    return reject("cloud_unreachable", 503, "cloud_unreachable", `The request needs the cloud and ${down}; send it with allow_defer to queue it`);
  }
  const first = f.available[0]!;
  // Over budget on the device, but the cloud is measured to be slower still: the faster of the two misses less.
  if (f.escalate.escalate === "over_budget_locally" && f.localFits && first.measured && first.predictedMs > f.budgetMs && first.predictedMs > f.localPredictedMs) {
    return local("cloud_no_faster", `${why}; ${first.id} predicted ${ms(first.predictedMs)}, slower still`, f.localPredictedMs);
  }
  // Offloading is worth it only to a cloud measured to make the budget the device would have made.
  if (f.escalate.escalate === "offload_busy_device" && !(first.measured && first.predictedMs <= f.budgetMs)) {
    return local("within_budget", `${why}; ${first.id} ${first.measured ? `predicted ${ms(first.predictedMs)}, over the budget` : "not measured yet"}`, f.localPredictedMs);
  }
  return {
    route: "cloud",
    reason: f.escalate.escalate,
    detail: f.escalate.detail,
    predictedMs: first.predictedMs,
    targets: f.available.map((t) => t.id),
    fallbackToLocal: f.route.fallbackToLocal && f.localFits,
  };
}
