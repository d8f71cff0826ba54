/**
 * The HTTP front door: guard, route, handle, map errors; tracks requests in flight so shutdown can
 * finish or abort them within its grace period.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { apiErrors, ClientGoneError, ShutdownError, toApiError } from "./errors.js";
import type { Guard } from "./guard.js";
import { sendError, type ErrorShape } from "./respond.js";
import type { RequestContext, RouteTable } from "./routes.js";

export interface HttpObserver {
  /** Called once per request when its response is finished or abandoned. */
  onResponse(route: string, status: number, seconds: number): void;
  onInternalError(error: unknown, route: string): void;
  /** Gives a failure its meaning before it is answered (a full disk becomes 507 naming the data directory). */
  explain?(error: unknown): unknown;
}

export class HttpServer {
  private readonly server: Server;
  private readonly inFlight = new Set<AbortController>();
  private draining = false;

  constructor(
    private readonly routes: RouteTable,
    private guard: Guard,
    private readonly observer: HttpObserver,
  ) {
    this.server = createServer({ keepAliveTimeout: 5000 }, (req, res) => void this.handle(req, res));
  }

  /** Checks the requests that arrive from now on against new keys, hosts and origins (a configuration reload). */
  setGuard(guard: Guard): void {
    this.guard = guard;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, lets requests in flight finish for `graceMs`, then aborts the rest and closes. */
  async shutdown(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const controller of this.inFlight) controller.abort(new ShutdownError());
    const abortDeadline = Date.now() + 300;
    while (this.inFlight.size > 0 && Date.now() < abortDeadline) await new Promise((r) => setTimeout(r, 10));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const controller = new AbortController();
    this.inFlight.add(controller);
    let routeName = "unmatched";
    const path = req.url ?? "";
    let errorShape: ErrorShape = path.startsWith("/api/") ? "ollama" : path.startsWith("/v1/messages") ? "anthropic" : "openai";
    res.on("close", () => {
      this.inFlight.delete(controller);
      if (!res.writableFinished) controller.abort(new ClientGoneError());
      this.observer.onResponse(routeName, res.statusCode, (performance.now() - started) / 1000);
    });
    try {
      if (this.draining) throw apiErrors.shuttingDown();
      this.guard.checkHost(req);
      const url = new URL(req.url ?? "/", "http://localhost");
      if (req.method === "OPTIONS") {
        const headers = this.guard.preflightHeaders(req);
        res.writeHead(204, headers).end();
        return;
      }
      for (const [name, value] of Object.entries(this.guard.checkOrigin(req))) res.setHeader(name, value);
      const { route, params } = this.routes.match(req.method ?? "GET", url.pathname);
      routeName = route.path;
      errorShape = route.errorShape ?? "openai";
      if (!route.public) this.guard.checkAuth(req);
      const ctx: RequestContext = { req, res, url, signal: controller.signal, params, started };
      await route.handle(ctx);
    } catch (error) {
      const apiError = toApiError(this.observer.explain?.(error) ?? error);
      if (apiError.status >= 500 && apiError.code === "internal_error") this.observer.onInternalError(error, routeName);
      sendError(res, apiError, errorShape);
    } finally {
      if (!res.writableEnded && !res.destroyed && !res.headersSent) sendError(res, apiErrors.internal(), errorShape);
    }
  }
}
