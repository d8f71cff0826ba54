/**
 * The soak's mixed load: what a kiosk's clients do all day, each operation checked for the outcome it should
 * have. An outcome other than the expected ones counts as an unexpected error of that kind, with an example kept.
 */
export type Kind =
  | "chat"
  | "stream"
  | "aborted_stream"
  | "past_deadline"
  | "embedding"
  | "memory_create"
  | "memory_update"
  | "memory_forget"
  | "memory_search"
  | "queue_job"
  | "ollama_chat"
  | "response"
  | "model_swap";

/** Relative frequency of each kind a client picks (model swaps run on their own timer). */
export const WEIGHTS: Record<Exclude<Kind, "model_swap">, number> = {
  chat: 20,
  stream: 15,
  aborted_stream: 8,
  past_deadline: 5,
  embedding: 10,
  memory_create: 8,
  memory_update: 6,
  memory_forget: 4,
  memory_search: 8,
  queue_job: 6,
  ollama_chat: 10,
  response: 6,
};

export class Unexpected extends Error {}

export interface Tally {
  /** Outcomes by label (e.g. "200", "504 deadline_exceeded"): all expected ones. */
  outcomes: Record<string, number>;
  unexpected: number;
  examples: string[];
}

export interface LoadContext {
  url: string;
  /** The chat model under load, and a second one loaded and unloaded on demand. */
  model: string;
  swapModel: string;
  prompts: readonly string[];
  random: () => number;
  /** Memory items this run created and has not forgotten (at most LIVE_MEMORIES: a steady population). */
  live: string[];
  /** Queue jobs: accepted, seen done, and those not seen done yet (checked while the load runs, since finished
   * jobs are purged after offline.retention). */
  jobs: { queued: number; done: number; pending: Set<string> };
}

/** The memory items a kiosk keeps; past it, a create forgets one first, so memory's live set stays steady. */
export const LIVE_MEMORIES = 300;

const pick = <T>(ctx: LoadContext, items: readonly T[]) => items[Math.floor(ctx.random() * items.length)]!;
const json = { "content-type": "application/json" };
/** Chat load stays on the device; the cloud's share of the load is the offline queue's. */
const device = { ...json, "x-edged-privacy": "local_only" };

async function call(ctx: LoadContext, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${ctx.url}${path}`, { method, headers: { ...json, ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: Record<string, any> = {};
  try {
    parsed = JSON.parse(text) as Record<string, any>;
  } catch {
    /* a non-JSON body is judged by its status */
  }
  return { status: res.status, body: parsed, text };
}

function expect(status: number, wanted: readonly number[], what: string, text: string): string {
  if (!wanted.includes(status)) throw new Unexpected(`${what}: ${status} ${text.slice(0, 300)}`);
  return String(status);
}

/** Reads an SSE body to its end, or aborts it after `abortAfter` chunks; returns the text it saw. */
async function readStream(res: Response, controller: AbortController, abortAfter?: number): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (let chunks = 0; ; chunks++) {
    if (abortAfter !== undefined && chunks >= abortAfter) {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      return text;
    }
    const { done, value } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
  }
}

const chatBody = (ctx: LoadContext, extra: object = {}) => ({ model: ctx.model, max_tokens: 24 + Math.floor(ctx.random() * 24), messages: [{ role: "user", content: pick(ctx, ctx.prompts) }], ...extra });

export const OPERATIONS: Record<Kind, (ctx: LoadContext) => Promise<string>> = {
  async chat(ctx) {
    const r = await call(ctx, "POST", "/v1/chat/completions", chatBody(ctx), device);
    if (r.status === 200 && typeof r.body.choices?.[0]?.message?.content !== "string") throw new Unexpected(`chat: no content: ${r.text.slice(0, 200)}`);
    return expect(r.status, [200], "chat", r.text);
  },
  async stream(ctx) {
    const controller = new AbortController();
    const res = await fetch(`${ctx.url}/v1/chat/completions`, { method: "POST", headers: device, body: JSON.stringify(chatBody(ctx, { stream: true })), signal: controller.signal });
    if (res.status !== 200) return expect(res.status, [200], "stream", await res.text());
    const text = await readStream(res, controller);
    if (!text.trimEnd().endsWith("data: [DONE]")) throw new Unexpected(`stream: ended without [DONE]: ${text.slice(-200)}`);
    return "200";
  },
  async aborted_stream(ctx) {
    const controller = new AbortController();
    const res = await fetch(`${ctx.url}/v1/chat/completions`, { method: "POST", headers: device, body: JSON.stringify(chatBody(ctx, { stream: true, max_tokens: 200 })), signal: controller.signal });
    if (res.status !== 200) return expect(res.status, [200], "aborted_stream", await res.text());
    await readStream(res, controller, 3);
    return "aborted";
  },
  async past_deadline(ctx) {
    // 2 ms for up to 300 tokens: no device makes it, so the deadline ends it (504) or admission refuses it (429)
    const r = await call(ctx, "POST", "/v1/chat/completions", chatBody(ctx, { max_tokens: 300 }), { ...device, "x-edged-deadline-ms": "2" });
    const code = r.body.error?.code as string | undefined;
    if (r.status === 200) return "200 finished first";
    if ((r.status === 504 && code === "deadline_exceeded") || (r.status === 429 && code === "deadline_unreachable")) return `${r.status} ${code}`;
    throw new Unexpected(`past_deadline: ${r.status} ${r.text.slice(0, 300)}`);
  },
  async embedding(ctx) {
    const r = await call(ctx, "POST", "/v1/embeddings", { model: "edged-embed:q4", input: [pick(ctx, ctx.prompts), pick(ctx, ctx.prompts)] });
    if (r.status === 200 && r.body.data?.length !== 2) throw new Unexpected(`embedding: ${r.text.slice(0, 200)}`);
    return expect(r.status, [200], "embedding", r.text);
  },
  async memory_create(ctx) {
    if (ctx.live.length >= LIVE_MEMORIES) return OPERATIONS.memory_forget(ctx);
    // one in four expires within a minute, so the sweeper's deletions are part of the load
    const ttl = ctx.random() < 0.25 ? { ttl_ms: 30_000 } : {};
    const r = await call(ctx, "POST", "/v1/memory", { subject: `user-${Math.floor(ctx.random() * 20)}`, content: pick(ctx, ctx.prompts), metadata: { source: "soak" }, ...ttl });
    if (r.status === 201 && !("ttl_ms" in ttl)) ctx.live.push(r.body.id as string);
    return expect(r.status, [201], "memory_create", r.text);
  },
  async memory_update(ctx) {
    if (ctx.live.length === 0) return OPERATIONS.memory_create(ctx);
    const r = await call(ctx, "PATCH", `/v1/memory/${pick(ctx, ctx.live)}`, { content: pick(ctx, ctx.prompts), actor: "soak", reason: "revised" });
    return expect(r.status, [200], "memory_update", r.text);
  },
  async memory_forget(ctx) {
    if (ctx.live.length < 20) return OPERATIONS.memory_create(ctx);
    const id = ctx.live.splice(Math.floor(ctx.random() * ctx.live.length), 1)[0]!;
    const r = await call(ctx, "DELETE", `/v1/memory/${id}?actor=soak&reason=forget`);
    if (r.status === 200 && typeof r.body.audit_hash !== "string") throw new Unexpected(`memory_forget: no receipt: ${r.text.slice(0, 200)}`);
    return expect(r.status, [200], "memory_forget", r.text);
  },
  async memory_search(ctx) {
    const r = await call(ctx, "POST", "/v1/memory/search", { query: pick(ctx, ctx.prompts), mode: pick(ctx, ["semantic", "keyword", "hybrid"] as const), limit: 5 });
    return expect(r.status, [200], "memory_search", r.text);
  },
  async queue_job(ctx) {
    const key = `soak-${ctx.jobs.queued}-${Math.floor(ctx.random() * 1e9)}`;
    const r = await call(ctx, "POST", "/v1/queue", { model: ctx.model, max_tokens: 8, messages: [{ role: "user", content: pick(ctx, ctx.prompts) }] }, { "idempotency-key": key });
    if (r.status === 202) {
      ctx.jobs.queued++;
      ctx.jobs.pending.add(r.body.id as string);
    }
    return expect(r.status, [202], "queue_job", r.text);
  },
  async ollama_chat(ctx) {
    const r = await call(ctx, "POST", "/api/chat", { model: ctx.model, stream: false, messages: [{ role: "user", content: pick(ctx, ctx.prompts) }], options: { num_predict: 16 } }, device);
    if (r.status === 200 && typeof r.body.message?.content !== "string") throw new Unexpected(`ollama_chat: ${r.text.slice(0, 200)}`);
    return expect(r.status, [200], "ollama_chat", r.text);
  },
  async response(ctx) {
    // stored (the default), so responses.retention is what bounds responses.db
    const r = await call(ctx, "POST", "/v1/responses", { model: ctx.model, input: pick(ctx, ctx.prompts), max_output_tokens: 16 }, device);
    if (r.status === 200 && r.body.status !== "completed" && r.body.status !== "incomplete") throw new Unexpected(`response: ${r.text.slice(0, 200)}`);
    return expect(r.status, [200], "response", r.text);
  },
  async model_swap(ctx) {
    // loaded for this one answer and unloaded right after it (keep_alive 0), as Ollama clients do
    const r = await call(ctx, "POST", "/api/generate", { model: ctx.swapModel, prompt: pick(ctx, ctx.prompts), stream: false, keep_alive: 0, options: { num_predict: 4 } }, device);
    return expect(r.status, [200], "model_swap", r.text);
  },
};

/** Looks at every pending job once: a done one is answered; the rest stay pending. */
export async function checkJobs(ctx: LoadContext): Promise<void> {
  for (const id of [...ctx.jobs.pending]) {
    const view = (await (await fetch(`${ctx.url}/v1/queue/${id}`)).json()) as { status?: string };
    if (view.status === "done") {
      ctx.jobs.pending.delete(id);
      ctx.jobs.done++;
    }
  }
}

/** Runs one operation and tallies its outcome. */
export async function run(ctx: LoadContext, kind: Kind, tallies: Record<string, Tally>): Promise<void> {
  const tally = (tallies[kind] ??= { outcomes: {}, unexpected: 0, examples: [] });
  try {
    const outcome = await OPERATIONS[kind](ctx);
    tally.outcomes[outcome] = (tally.outcomes[outcome] ?? 0) + 1;
  } catch (error) {
    tally.unexpected++;
    if (tally.examples.length < 5) tally.examples.push(error instanceof Unexpected ? error.message : `${kind}: ${String((error as Error).stack ?? error)}`);
  }
}

export function pickKind(random: () => number): Exclude<Kind, "model_swap"> {
  const entries = Object.entries(WEIGHTS) as [Exclude<Kind, "model_swap">, number][];
  let r = random() * entries.reduce((n, [, w]) => n + w, 0);
  for (const [kind, w] of entries) if ((r -= w) < 0) return kind;
  return entries[0]![0];
}
