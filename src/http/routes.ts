/** The route table: one handler per method and path; unknown paths are 404 and wrong methods 405. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { apiErrors } from "./errors.js";
import type { ErrorShape } from "./respond.js";

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
  /** Route parameters, e.g. the model id of /v1/models/{id}. */
  params: Record<string, string>;
  started: number;
}

export interface Route {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A literal path, or a pattern with `{name}` segments. */
  path: string;
  /** Reachable without an API key (health probes). */
  public?: boolean;
  /** The API whose error shape this route answers in; OpenAI's by default. */
  errorShape?: ErrorShape;
  handle(ctx: RequestContext): Promise<void>;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

export class RouteTable {
  private readonly routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.routes = routes.map((r) => {
      const names: string[] = [];
      const source = r.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return "([^/]+)";
      });
      return { ...r, pattern: new RegExp(`^${source}$`), names };
    });
  }

  /** The route for this request, or the 404/405 error to answer with. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const onPath = this.routes.filter((r) => r.pattern.test(path));
    if (onPath.length === 0) throw apiErrors.routeNotFound(method, path);
    const route = onPath.find((r) => r.method === method);
    if (!route) throw apiErrors.methodNotAllowed(method, path, [...new Set(onPath.map((r) => r.method))]);
    const values = route.pattern.exec(path)!.slice(1);
    const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(values[i]!)]));
    return { route, params };
  }
}
