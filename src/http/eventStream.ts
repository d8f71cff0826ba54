/**
 * Streamed responses: server-sent events — data-only frames ended by `data: [DONE]` (OpenAI chat and text
 * completions), or frames named by their object's `type` (Anthropic Messages, OpenAI Responses) — or Ollama's
 * newline-delimited JSON. An error after the stream opened is its last frame, in that API's error shape.
 */
import type { ServerResponse } from "node:http";
import type { ApiError } from "./errors.js";

export interface EventStream {
  open(): void;
  send(data: unknown): void;
  sendAll(frames: readonly unknown[]): void;
  end(): void;
  fail(error: ApiError): void;
  readonly opened: boolean;
}

abstract class BaseStream implements EventStream {
  constructor(protected readonly res: ServerResponse) {}
  protected abstract readonly contentType: string;
  protected abstract frame(data: unknown): string;

  get opened(): boolean {
    return this.res.headersSent;
  }

  open(): void {
    this.res.writeHead(200, { "content-type": this.contentType, "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    this.res.flushHeaders();
  }

  send(data: unknown): void {
    if (!this.res.writableEnded) this.res.write(this.frame(data));
  }

  sendAll(frames: readonly unknown[]): void {
    for (const data of frames) this.send(data);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }

  abstract fail(error: ApiError): void;
}

export class SseStream extends BaseStream {
  protected readonly contentType = "text/event-stream; charset=utf-8";
  protected frame(data: unknown): string {
    return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
  }
  override end(): void {
    this.send("[DONE]");
    super.end();
  }
  fail(error: ApiError): void {
    this.send(error.body());
    super.end();
  }
}

/** Server-sent events named by their object's `type`; the stream simply ends after its last event. */
export class TypedSseStream extends BaseStream {
  protected readonly contentType = "text/event-stream; charset=utf-8";
  constructor(
    res: ServerResponse,
    /** The API's error event. */
    private readonly errorEvent: (error: ApiError) => { type: string },
  ) {
    super(res);
  }
  protected frame(data: unknown): string {
    return `event: ${(data as { type: string }).type}\ndata: ${JSON.stringify(data)}\n\n`;
  }
  fail(error: ApiError): void {
    this.send(this.errorEvent(error));
    this.end();
  }
}

export class NdjsonStream extends BaseStream {
  protected readonly contentType = "application/x-ndjson";
  protected frame(data: unknown): string {
    return `${JSON.stringify(data)}\n`;
  }
  fail(error: ApiError): void {
    this.send(error.ollamaBody());
    this.end();
  }
}

/** A stream held back until `release()`: frames wait in memory, and nothing reaches the client if it never comes. */
export class HeldStream implements EventStream {
  private held: (() => void)[] | undefined = [];

  constructor(private readonly inner: EventStream) {}

  get opened(): boolean {
    return this.held === undefined && this.inner.opened;
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const frame of held) frame();
  }

  private pass(frame: () => void): void {
    if (this.held) this.held.push(frame);
    else frame();
  }

  open(): void {
    this.pass(() => this.inner.open());
  }
  send(data: unknown): void {
    this.pass(() => this.inner.send(data));
  }
  sendAll(frames: readonly unknown[]): void {
    for (const data of frames) this.send(data);
  }
  end(): void {
    this.pass(() => this.inner.end());
  }
  fail(error: ApiError): void {
    this.pass(() => this.inner.fail(error));
  }
}
