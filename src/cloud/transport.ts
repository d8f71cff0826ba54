/**
 * HTTP to one cloud provider over undici: a request either reaches a 2xx status and headers or fails with a
 * CloudError; bodies are read as JSON or as server-sent events, and undici's failures become CloudError kinds.
 */
import { Agent, request, type Dispatcher } from "undici";
import type { z } from "zod";
import { CloudError, parseRetryAfter, type CloudErrorDetails, type CloudErrorKind } from "./errors.js";
import { parseSse, type SseEvent } from "./sse.js";
import type { CallOptions, ProviderConfig } from "./types.js";

type Timeouts = Pick<ProviderConfig, "connectTimeoutMs" | "firstByteTimeoutMs" | "idleTimeoutMs">;

export function createAgent({ connectTimeoutMs, firstByteTimeoutMs, idleTimeoutMs }: Timeouts): Agent {
  return new Agent({ connect: { timeout: connectTimeoutMs }, headersTimeout: firstByteTimeoutMs, bodyTimeout: idleTimeoutMs });
}

export interface TransportOptions extends Omit<Timeouts, "connectTimeoutMs"> {
  provider: string;
  dispatcher: Dispatcher;
  /** Scrubbed from every error message: a server may echo a key it rejected. */
  secret?: string;
  /** Wall clock, for Retry-After dates. */
  now: () => number;
}

export interface Exchange {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: unknown;
}

export type HttpResponse = Dispatcher.ResponseData;

/** Both APIs answer errors as `{error: {message}}` (Anthropic inside `{type: "error"}`); some compatible servers as `{error: "..."}`. */
function apiMessage(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof error === "string") return error;
    if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
      return (error as { message: string }).message;
    }
  } catch {
    // not JSON: the text itself says what went wrong
  }
  return text.slice(0, 500);
}

export class Transport {
  constructor(private readonly options: TransportOptions) {}

  error(kind: CloudErrorKind, message: string, details: CloudErrorDetails): CloudError {
    const { secret } = this.options;
    return new CloudError(kind, this.options.provider, secret ? message.replaceAll(secret, "[redacted]") : message, details);
  }

  /** Sends the request; resolves with a 2xx response whose body is still to be read. */
  async send({ url, method, headers, body }: Exchange, { signal, idempotencyKey }: CallOptions = {}): Promise<HttpResponse> {
    let res: HttpResponse;
    try {
      res = await request(url, {
        dispatcher: this.options.dispatcher,
        method,
        headers: {
          ...headers,
          ...(body !== undefined && { "content-type": "application/json" }),
          ...(idempotencyKey !== undefined && { "idempotency-key": idempotencyKey }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        // per request too, so an injected dispatcher keeps the provider's timeouts
        headersTimeout: this.options.firstByteTimeoutMs,
        bodyTimeout: this.options.idleTimeoutMs,
      });
    } catch (error) {
      throw this.failure(error, true, signal);
    }
    // a body left unread that fails later (a timeout, an abort) must not become an uncaught 'error' event
    res.body.on("error", () => {});
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const text = await res.body.text().catch(() => "");
    const header = (name: string) => [res.headers[name]].flat()[0];
    const retryAfterMs = Number(header("retry-after-ms")) || parseRetryAfter(header("retry-after"), this.options.now());
    throw this.error("status", `HTTP ${res.statusCode}: ${apiMessage(text)}`, { status: res.statusCode, retryAfterMs, beforeFirstByte: true });
  }

  /** The whole body as JSON of the given shape. */
  async json<T>(res: HttpResponse, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    let text: string;
    try {
      text = await res.body.text();
    } catch (error) {
      throw this.failure(error, false, signal);
    }
    return this.decode(text, schema);
  }

  /** One JSON document of the given shape, or a "protocol" error. */
  decode<T>(text: string, schema: z.ZodType<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.error("protocol", `the response is not JSON: ${text.slice(0, 200)}`, { beforeFirstByte: false });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw this.error("protocol", `unexpected response: ${parsed.error.issues[0]?.message ?? "invalid"}`, { beforeFirstByte: false });
    return parsed.data;
  }

  /** The body's server-sent events; a connection failure while reading is a CloudError. */
  async *events(res: HttpResponse, signal?: AbortSignal): AsyncGenerator<SseEvent> {
    try {
      yield* parseSse(res.body);
    } catch (error) {
      throw this.failure(error, false, signal);
    }
  }

  /** The body was left unread (a stream its consumer abandoned): close the connection rather than wait on it. */
  discard(res: HttpResponse): void {
    res.body.destroy();
  }

  private failure(error: unknown, beforeFirstByte: boolean, signal?: AbortSignal): CloudError {
    if (error instanceof CloudError) return error;
    const details = { beforeFirstByte, cause: error };
    if (signal?.aborted) return this.error("aborted", "the call was aborted", details);
    const { code, message } = error as { code?: string; message?: string };
    if (code === "UND_ERR_HEADERS_TIMEOUT") return this.error("timeout", `no response within ${this.options.firstByteTimeoutMs} ms`, details);
    if (code === "UND_ERR_BODY_TIMEOUT") return this.error("timeout", `the response stalled: no data for ${this.options.idleTimeoutMs} ms`, details);
    // before any response, every failure (refused, unreachable, reset, connect timeout) means the request got no answer
    if (beforeFirstByte) return this.error("connect", `connection failed: ${message ?? String(error)}`, details);
    return this.error("stream_cut", `the response was cut off: ${message ?? String(error)}`, details);
  }
}
