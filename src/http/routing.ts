/** What a request says about its routing (headers win over the body's `edged` object), and the headers that report the decision. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Decision } from "../router/policy.js";
import type { Routed } from "../router/router.js";
import { Privacy, type RoutingOptions } from "../router/schemas.js";
import { keyIdOf } from "../router/tokenBudget.js";
import { apiErrors } from "./errors.js";
import { apiKeyOf } from "./guard.js";

/** Who sends a request (whose cloud token budget it spends, whose tool calls the log counts): its API key's id. */
export const callerIdOf = (req: IncomingMessage) => keyIdOf(apiKeyOf(req));

export const ROUTING_HEADERS = { budget: "x-edged-latency-budget-ms", privacy: "x-edged-privacy", defer: "x-edged-allow-defer" } as const;

export interface RequestRouting {
  budgetMs: number;
  privacy: Privacy;
  allowDefer: boolean;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value.trim() : undefined;
}

export function routingOf(req: IncomingMessage, body: RoutingOptions | undefined, defaultBudgetMs: number): RequestRouting {
  const budget = header(req, ROUTING_HEADERS.budget);
  const budgetMs = budget === undefined ? body?.latency_budget_ms : Number(budget);
  if (budgetMs !== undefined && (!Number.isInteger(budgetMs) || budgetMs <= 0)) {
    throw apiErrors.invalidParam(ROUTING_HEADERS.budget, `${ROUTING_HEADERS.budget} must be a positive integer of milliseconds`);
  }
  const privacy = header(req, ROUTING_HEADERS.privacy);
  if (privacy !== undefined && !Privacy.safeParse(privacy).success) {
    throw apiErrors.invalidParam(ROUTING_HEADERS.privacy, `${ROUTING_HEADERS.privacy} must be one of ${Privacy.options.join(", ")}`);
  }
  const defer = header(req, ROUTING_HEADERS.defer);
  if (defer !== undefined && defer !== "true" && defer !== "false") throw apiErrors.invalidParam(ROUTING_HEADERS.defer, `${ROUTING_HEADERS.defer} must be true or false`);
  return {
    budgetMs: budgetMs ?? defaultBudgetMs,
    privacy: (privacy as Privacy | undefined) ?? body?.privacy ?? "default",
    allowDefer: defer !== undefined ? defer === "true" : (body?.allow_defer ?? false),
  };
}

/** Reports a decision on the response (before its head is written). */
export function setRouteHeaders(res: ServerResponse, decision: Decision, routed?: Pick<Routed, "redactions">): void {
  res.setHeader("x-edged-route", decision.route);
  res.setHeader("x-edged-route-reason", `${decision.reason}: ${decision.detail}`);
  if (decision.predictedMs !== undefined) res.setHeader("x-edged-predicted-ms", String(Math.round(decision.predictedMs)));
  if (routed?.redactions) res.setHeader("x-edged-redactions", String(routed.redactions));
}
