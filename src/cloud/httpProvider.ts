/**
 * What every provider over HTTP shares: one exchange for a chat call, answered as JSON or as server-sent events,
 * and a model-list probe. Each wire format supplies its requests (`exchange`, `probeExchange`) and its readings
 * of the answer (`result`, `translate`).
 */
import type { SseEvent } from "./sse.js";
import { onStreamEnd } from "./streamEnd.js";
import type { Exchange, HttpResponse, Transport } from "./transport.js";
import type { CallOptions, CloudChatRequest, CloudChatResult, CloudEvent, CloudProvider } from "./types.js";

export interface HttpProviderOptions {
  id: string;
  baseUrl: string;
  model: string;
  apiKey?: string;
  transport: Transport;
}

export abstract class HttpProvider<Options extends HttpProviderOptions = HttpProviderOptions> implements CloudProvider {
  abstract readonly kind: CloudProvider["kind"];
  readonly id: string;
  readonly model: string;
  protected readonly transport: Transport;

  constructor(protected readonly options: Options) {
    this.id = options.id;
    this.model = options.model;
    this.transport = options.transport;
  }

  protected abstract exchange(req: CloudChatRequest, stream: boolean): Exchange;
  protected abstract probeExchange(): Exchange;
  protected abstract result(res: HttpResponse, signal?: AbortSignal): Promise<CloudChatResult>;
  protected abstract translate(frames: AsyncIterable<SseEvent>): AsyncGenerator<CloudEvent>;

  async chat(req: CloudChatRequest, opts: CallOptions = {}): Promise<CloudChatResult> {
    return this.result(await this.transport.send(this.exchange(req, false), opts), opts.signal);
  }

  async stream(req: CloudChatRequest, opts: CallOptions = {}): Promise<AsyncIterable<CloudEvent>> {
    const res = await this.transport.send(this.exchange(req, true), opts);
    const events = this.translate(this.transport.events(res, opts.signal));
    return onStreamEnd(events, (end) => {
      if (end.kind === "abandoned") this.transport.discard(res);
    });
  }

  async probe(signal?: AbortSignal): Promise<void> {
    const res = await this.transport.send(this.probeExchange(), { signal });
    await res.body.dump();
  }
}
