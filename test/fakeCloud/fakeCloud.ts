/**
 * A fake cloud on loopback HTTP for tests and benchmarks: OpenAI's POST /v1/chat/completions and GET /v1/models,
 * Anthropic's POST /v1/messages, over their real wire formats (see protocols.ts). Chat calls can be given faults
 * (error statuses, a slow first byte, a reset or an error event mid-stream, latency); a repeated Idempotency-Key is
 * answered from a cache. It can go offline (connections refused) and come back on the same port.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { answer, parseChat, protocols, type Api, type Frame } from "./protocols.js";

export interface Latency {
  /** Before the response's headers. */
  firstByteMs?: number;
  /** Before each token's frame (streaming), or per token before the whole answer (JSON). */
  perTokenMs?: number;
}

export type Fault =
  | { status: 429 | 500 | 503 | 529; retryAfter?: number }
  | { slowFirstByteMs: number }
  /** Destroys the socket after this many frames of a stream (after the headers and this many bytes of a JSON answer). */
  | { resetAfterChunks: number }
  /** Sends the API's in-stream error after this many frames and ends the stream. */
  | { streamErrorAfterChunks: number }
  /** Answers with a call to this tool whether or not it was offered (a cloud model that makes names up). */
  | { callTool: string }
  | { latency: Latency };

/** The faults of the next chat calls in order (null: answer normally), or a fault by chat call number (from 1). */
export type FaultPlan = (Fault | null)[] | ((call: number) => Fault | null | undefined);

export interface FakeCloudOptions {
  /** Port to listen on; any free one by default. */
  port?: number;
  /** When set, requests must carry it (Bearer for OpenAI, x-api-key for Anthropic); the 401 echoes a wrong key. */
  apiKey?: string;
  /** Latency of every chat answer; none by default. */
  latency?: Latency;
  /** Called the moment an answer generated in full has been sent (not for replays from the cache): crash tests act then. */
  onCompleted?: (record: RecordedRequest) => void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  idempotencyKey?: string;
  /** How the exchange ended, once it has. */
  outcome?: "completed" | "replayed" | "fault" | "rejected" | "client_closed";
}

export interface FakeCloud {
  url: string;
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  port: number;
  requests: RecordedRequest[];
  /** Answers generated in full per Idempotency-Key (replays from the cache not counted): above 1 is a duplicate. */
  completedByKey: Map<string, number>;
  setFaults(plan: FaultPlan): void;
  /** Resolves once no request is in flight. */
  idle(): Promise<void>;
  /** Stops listening and drops every connection: connects are refused, the port is kept. */
  goOffline(): Promise<void>;
  goOnline(): Promise<void>;
  stop(): Promise<void>;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  frames: Frame[];
}

const JSON_HEADERS = { "content-type": "application/json" };
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" };

const STATUS_MESSAGES: Record<number, string> = {
  429: "Rate limit reached for requests. Please try again later.",
  500: "The server had an error while processing your request.",
  503: "The service is temporarily unavailable.",
  529: "Overloaded",
};

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // recorded as sent; the request is refused as not an object
  }
}

export async function startFakeCloud(options: FakeCloudOptions = {}): Promise<FakeCloud> {
  const requests: RecordedRequest[] = [];
  const completedByKey = new Map<string, number>();
  const cache = new Map<string, Reply>();
  let plan: FaultPlan = [];
  let chatCalls = 0;
  let ids = 0;
  let inFlight = 0;
  const idleWaiters: (() => void)[] = [];

  const nextFault = (): Fault | undefined => {
    chatCalls++;
    return (Array.isArray(plan) ? plan.shift() : plan(chatCalls)) ?? undefined;
  };

  /** The API a request is for, or the reply refusing it: unknown route, bad key, missing version, invalid body. */
  function route(req: IncomingMessage, record: RecordedRequest): { api: Api } | Reply {
    const api: Api | undefined =
      req.method === "POST" && record.path === "/v1/chat/completions" ? "openai" : req.method === "POST" && record.path === "/v1/messages" ? "anthropic" : undefined;
    const anthropicStyle = api === "anthropic" || (api === undefined && req.headers["anthropic-version"] !== undefined);
    const refuse = (status: number, message: string): Reply => ({
      status,
      headers: JSON_HEADERS,
      frames: [{ text: JSON.stringify(protocols[anthropicStyle ? "anthropic" : "openai"].error(status, message)) }],
    });
    if (api === undefined && !(req.method === "GET" && record.path === "/v1/models")) return refuse(404, `Unknown request URL: ${req.method} ${record.path}`);
    if (anthropicStyle && req.headers["anthropic-version"] === undefined) return refuse(400, "anthropic-version: header is required");
    if (options.apiKey !== undefined) {
      const key = anthropicStyle ? req.headers["x-api-key"] : req.headers.authorization?.replace(/^Bearer /, "");
      if (key !== options.apiKey) return refuse(401, anthropicStyle ? `invalid x-api-key: ${String(key)}` : `Incorrect API key provided: ${String(key)}.`);
    }
    if (api === undefined) {
      const models = [{ id: "fake-model", created: 0 }];
      const body = anthropicStyle
        ? { data: models.map((m) => ({ type: "model", id: m.id, display_name: m.id, created_at: new Date(0).toISOString() })), has_more: false }
        : { object: "list", data: models.map((m) => ({ id: m.id, object: "model", created: m.created, owned_by: "fake" })) };
      return { status: 200, headers: JSON_HEADERS, frames: [{ text: JSON.stringify(body) }] };
    }
    return { api };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, closed: AbortSignal): Promise<void> {
    const routed = route(req, record);
    if (!("api" in routed)) return send(res, routed, record, routed.status === 200 ? "completed" : "rejected");
    const { api } = routed;
    const protocol = protocols[api];
    const input = parseChat(api, record.body);
    if (typeof input === "string") return send(res, { status: 400, headers: JSON_HEADERS, frames: [{ text: JSON.stringify(protocol.error(400, input)) }] }, record, "rejected");
    const fault = nextFault();
    if (fault && "status" in fault) {
      const headers = { ...JSON_HEADERS, ...(fault.retryAfter !== undefined && { "retry-after": String(fault.retryAfter) }) };
      return send(res, { status: fault.status, headers, frames: [{ text: JSON.stringify(protocol.error(fault.status, STATUS_MESSAGES[fault.status]!)) }] }, record, "fault");
    }
    const key = record.idempotencyKey;
    const stored = key === undefined ? undefined : cache.get(key);
    if (stored) return send(res, stored, record, "replayed");

    const latency = { ...options.latency, ...(fault && "latency" in fault && fault.latency) };
    const asked = fault && "callTool" in fault ? { ...input, calling: [{ name: fault.callTool, schema: {} }] } : input;
    const a = answer(asked, api === "openai" ? `chatcmpl-fake${++ids}` : `msg_fake${++ids}`, api);
    const firstByteMs = fault && "slowFirstByteMs" in fault ? fault.slowFirstByteMs : (latency.firstByteMs ?? 0);
    const perTokenMs = latency.perTokenMs ?? 0;
    await delay(firstByteMs + (input.stream ? 0 : perTokenMs * (a.pieces.length + a.calls.length)), undefined, { signal: closed });
    const reply: Reply = input.stream
      ? { status: 200, headers: SSE_HEADERS, frames: protocol.frames(a, input.includeUsage) }
      : { status: 200, headers: JSON_HEADERS, frames: [{ text: JSON.stringify(protocol.json(a)) }] };

    if (!input.stream && fault && "resetAfterChunks" in fault) {
      const body = reply.frames[0]!.text;
      res.writeHead(200, { ...reply.headers, "content-length": String(Buffer.byteLength(body)) });
      res.write(body.slice(0, Math.floor(body.length / 2)));
      return reset(res, record);
    }
    res.writeHead(reply.status, reply.headers);
    for (const [i, frame] of reply.frames.entries()) {
      if (fault && "resetAfterChunks" in fault && i === fault.resetAfterChunks) return reset(res, record);
      if (fault && "streamErrorAfterChunks" in fault && i === fault.streamErrorAfterChunks) {
        record.outcome = "fault";
        res.end(protocol.streamError().text);
        return;
      }
      if (frame.token && perTokenMs > 0) await delay(perTokenMs, undefined, { signal: closed });
      res.write(frame.text);
    }
    record.outcome = "completed";
    res.end();
    if (key !== undefined) {
      cache.set(key, reply);
      completedByKey.set(key, (completedByKey.get(key) ?? 0) + 1);
    }
    options.onCompleted?.(record);
  }

  function send(res: ServerResponse, reply: Reply, record: RecordedRequest, outcome: RecordedRequest["outcome"]): void {
    record.outcome = outcome;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.frames.map((f) => f.text).join(""));
  }

  function reset(res: ServerResponse, record: RecordedRequest): void {
    record.outcome = "fault";
    // the frames written so far reach the client, then the connection closes in the middle of the body
    res.socket?.destroySoon();
  }

  const server = createServer((req, res) => {
    inFlight++;
    const closed = new AbortController();
    res.on("close", () => {
      closed.abort();
      if (--inFlight === 0) for (const wake of idleWaiters.splice(0)) wake();
    });
    void (async () => {
      const key = req.headers["idempotency-key"];
      const record: RecordedRequest = {
        method: req.method ?? "GET",
        path: new URL(req.url ?? "/", "http://fake").pathname,
        headers: req.headers,
        body: await readJson(req),
        ...(typeof key === "string" && { idempotencyKey: key }),
      };
      requests.push(record);
      res.on("close", () => (record.outcome ??= "client_closed"));
      await handle(req, res, record, closed.signal).catch((error: unknown) => {
        if (closed.signal.aborted) return; // the client left: nothing to answer
        if (!res.headersSent) res.writeHead(500, JSON_HEADERS);
        res.end(JSON.stringify({ error: { message: `fake cloud bug: ${String(error)}`, type: "server_error" } }));
      });
    })();
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const port = await listen(options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    port,
    requests,
    completedByKey,
    setFaults(next) {
      plan = Array.isArray(next) ? [...next] : next;
      chatCalls = 0;
    },
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    goOffline: close,
    goOnline: async () => void (await listen(port)),
    stop: async () => {
      if (server.listening) await close();
    },
  };
}
