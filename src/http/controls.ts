/** The controls every surface reads the same way: routing, deadline and priority, from headers or edged's body fields. */
import type { CoreRequest } from "../core/request.js";
import type { CoreDeps } from "../core/serveRequest.js";
import type { RoutingOptions } from "../router/schemas.js";
import type { Priority } from "../scheduler/slotScheduler.js";
import { deadlineOf } from "./deadline.js";
import { priorityOf } from "./priority.js";
import { routingOf } from "./routing.js";
import type { RequestContext } from "./routes.js";

export interface ControlFields {
  edged?: RoutingOptions;
  deadline_ms?: number;
  priority?: Priority;
}

export function controlsOf(ctx: RequestContext, deps: CoreDeps, body: ControlFields = {}): Pick<CoreRequest, "routing" | "deadlineMs" | "priority"> {
  return {
    routing: routingOf(ctx.req, body.edged, deps.routing.router.defaultBudgetMs),
    deadlineMs: deadlineOf(ctx.req, body.deadline_ms, deps.limits.defaultDeadlineMs),
    priority: priorityOf(ctx.req, body.priority),
  };
}
