/**
 * Scoring a text on the device: the log-probability of each of its tokens given those before it, as the legacy
 * completions endpoint's `echo` with `max_tokens: 0` returns it (what evaluation harnesses ask for a
 * log-likelihood). Nothing is sampled, so it is deterministic. Always on the device: a cloud cannot score a prompt.
 */
import type { ScoredToken } from "./logprobs.js";
import type { Priority } from "../scheduler/slotScheduler.js";
import { apiErrors } from "../http/errors.js";
import { withDeadline } from "../http/deadline.js";
import type { RequestContext } from "../http/routes.js";
import { EVALUATION_PRIORITY } from "./localAnswer.js";
import type { CoreDeps } from "./serveRequest.js";

export interface ScoreRequest {
  model: string;
  text: string;
  /** Likeliest alternatives to list per token. */
  top: number;
  priority: Priority;
  deadlineMs: number | undefined;
}

export interface Scored {
  /** The local model that scored it. */
  model: string;
  tokens: ScoredToken[];
  promptTokens: number;
}

export async function scoreOnDevice(ctx: RequestContext, deps: CoreDeps, request: ScoreRequest): Promise<Scored> {
  const route = deps.routing.router.routeFor(request.model);
  if (!route) throw apiErrors.modelNotFound(request.model);
  return deps.models.useChat(route.local, undefined, async (backend) => {
    const tokens = backend.model.tokenizeText(request.text);
    backend.model.assertFits(tokens, "prompt");
    const { signal, clear } = withDeadline(ctx.signal, request.deadlineMs, performance.now() - ctx.started);
    try {
      const remainingMs = request.deadlineMs === undefined ? undefined : request.deadlineMs - (performance.now() - ctx.started);
      const scored = await backend.scheduler.run(
        () => backend.model.score(tokens, { top: request.top, signal, interactive: request.priority === "interactive", evaluationPriority: EVALUATION_PRIORITY[request.priority] }),
        { signal, priority: request.priority, deadlineMs: remainingMs },
      );
      deps.metrics.tokensIn.inc({ model: backend.entry.id }, tokens.length);
      return { model: backend.entry.id, tokens: scored, promptTokens: tokens.length };
    } finally {
      clear();
    }
  });
}
