/**
 * The offline queue over HTTP: POST /v1/queue takes a chat request for the cloud and answers 202 with its job
 * (the same job again for a repeated Idempotency-Key); GET /v1/queue/{id} shows its status and, once done, its
 * chat.completion, GET /v1/queue/{id}/events its history; GET /v1/queue lists jobs and DELETE /v1/queue purges
 * finished ones.
 */
import { z } from "zod";
import { Duration, durationMs } from "../../config/duration.js";
import { FinishedStatus, JobStatus } from "../../offline/job.js";
import type { JobStore } from "../../offline/jobStore.js";
import { guardMessages } from "../../router/redaction.js";
import { readJsonBody } from "../body.js";
import { ApiError, apiErrors } from "../errors.js";
import { cloudRequestOf } from "../../core/cloudAnswer.js";
import type { RoutingDeps } from "../../core/routingDeps.js";
import type { ToolPermissions } from "../../core/toolPermissions.js";
import { toolsOf } from "../../core/serveRequest.js";
import { coreMessage, openaiSampling } from "../openai/chatCompletions.js";
import { ChatCompletionRequest } from "../openai/schemas.js";
import { sendJson } from "../respond.js";
import { callerIdOf } from "../routing.js";
import type { Route } from "../routes.js";
import { jobView } from "./jobView.js";

const QueueRequest = ChatCompletionRequest.extend({
  stream: z.literal(false, { message: "a queued request cannot stream; fetch its result from GET /v1/queue/{id}" }).nullish(),
});

const ListQuery = z.object({ status: JobStatus.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100), after: z.string().optional() });
/** Finished jobs of one status last changed at least `older_than` ago (all of them by default). */
const PurgeQuery = z.object({ status: FinishedStatus, older_than: Duration.default(0) }).strict();

export function queueRoutes(deps: {
  routing: Required<Pick<RoutingDeps, "queue">> & RoutingDeps;
  jobs: JobStore;
  limits: { bodyBytes: number; defaultMaxTokens: number };
  toolPermissions?: ToolPermissions;
}): Route[] {
  const { router, queue } = deps.routing;
  const jobOf = (id: string) => {
    const job = deps.jobs.get(id);
    if (!job) throw new ApiError(404, `No queued job ${id}`, "invalid_request_error", "job_not_found", "id");
    return job;
  };
  return [
    {
      method: "POST",
      path: "/v1/queue",
      async handle(ctx) {
        const body = QueueRequest.parse(await readJsonBody(ctx.req, deps.limits.bodyBytes));
        const route = router.routeFor(body.model);
        if (!route) throw apiErrors.modelNotFound(body.model);
        if (route.cloud.length === 0) throw apiErrors.invalidParam("model", `The model \`${body.model}\` has no cloud route: queued requests are for the cloud`);
        if (body.edged?.privacy === "local_only") throw apiErrors.invalidParam("edged.privacy", "A local_only request never leaves the device, so it cannot be queued for the cloud");
        const { request } = toolsOf(ctx, deps, {
          prompt: { messages: body.messages.map(coreMessage) },
          promptParam: "messages",
          tools: (body.tools ?? []).map((t) => t.function),
          toolChoice: body.tool_choice,
          parallelToolCalls: body.parallel_tool_calls,
        });
        const guard = guardMessages(request.prompt.messages, route.config.redaction);
        if (!guard.allowed) throw new ApiError(403, "The request holds sensitive content that this route may not send to the cloud", "permission_error", "sensitive_content");
        const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? deps.limits.defaultMaxTokens;
        const keyId = callerIdOf(ctx.req);
        const key = ctx.req.headers["idempotency-key"];
        const { job, created } = queue.defer(
          {
            route: body.model,
            keyId,
            request: cloudRequestOf({ ...request, sampling: openaiSampling(body), stop: body.stop, maxTokens }, guard.messages),
          },
          typeof key === "string" ? key : undefined,
        );
        sendJson(ctx.res, created ? 202 : 200, queue.view(job), { location: `/v1/queue/${job.id}`, ...(guard.total ? { "x-edged-redactions": String(guard.total) } : {}) });
      },
    },
    { method: "GET", path: "/v1/queue/{id}", handle: async (ctx) => sendJson(ctx.res, 200, jobView(jobOf(ctx.params.id!))) },
    { method: "GET", path: "/v1/queue/{id}/events", handle: async (ctx) => sendJson(ctx.res, 200, { object: "list", data: deps.jobs.events(jobOf(ctx.params.id!).id) }) },
    {
      method: "DELETE",
      path: "/v1/queue",
      async handle(ctx) {
        const query = PurgeQuery.parse(Object.fromEntries(ctx.url.searchParams));
        sendJson(ctx.res, 200, { object: "queue.purge", status: query.status, purged: deps.jobs.purge({ status: query.status, olderThanMs: durationMs(query.older_than) }) });
      },
    },
    {
      method: "GET",
      path: "/v1/queue",
      async handle(ctx) {
        const query = ListQuery.parse(Object.fromEntries(ctx.url.searchParams));
        const data = deps.jobs.list(query).map(jobView);
        sendJson(ctx.res, 200, { object: "list", data, counts: deps.jobs.counts() });
      },
    },
  ];
}
