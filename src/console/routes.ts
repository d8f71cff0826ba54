/**
 * The console's static files: the page at `/` and its modules, stylesheet and chart library under `/console/`,
 * read from the package once at startup (they are small) and served with a strict Content-Security-Policy: no
 * inline script or style, nothing from elsewhere, and the page talks only to this daemon's public API.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { apiErrors } from "../http/errors.js";
import type { RequestContext, Route } from "../http/routes.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The page and its stylesheet, as written. */
const SOURCE_DIR = join(ROOT, "src", "console", "web");
/** The page's modules, compiled by `npm run build` (src/console/web/tsconfig.json). */
export const COMPILED_DIR = join(ROOT, "dist", "console");

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(path: string): Asset {
  const body = readFileSync(path);
  return { body, type: TYPES[extname(path)] ?? "application/octet-stream", etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` };
}

/** Every file the console serves, by the name it has under /console/ ("" is the page itself). */
export function consoleAssets(): Map<string, Asset> {
  if (!existsSync(join(COMPILED_DIR, "main.js"))) throw new Error(`the console's modules are not built (${COMPILED_DIR}): run npm run build, or set console.enabled to false`);
  const uplot = dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"));
  const files = new Map<string, Asset>([
    ["", asset(join(SOURCE_DIR, "index.html"))],
    ["console.css", asset(join(SOURCE_DIR, "console.css"))],
    ["uPlot.iife.min.js", asset(join(uplot, "uPlot.iife.min.js"))],
    ["uPlot.min.css", asset(join(uplot, "uPlot.min.css"))],
  ]);
  for (const name of readdirSync(COMPILED_DIR)) if (name.endsWith(".js")) files.set(name, asset(join(COMPILED_DIR, name)));
  return files;
}

function send(ctx: RequestContext, file: Asset | undefined): void {
  if (!file) throw apiErrors.routeNotFound("GET", ctx.url.pathname);
  const headers = {
    "content-type": file.type,
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
    etag: file.etag,
  };
  if (ctx.req.headers["if-none-match"] === file.etag) return void ctx.res.writeHead(304, headers).end();
  ctx.res.writeHead(200, { ...headers, "content-length": file.body.length }).end(file.body);
}

/** GET / and GET /console/{file}; public, so the page can load and ask for a key (the API it calls is guarded). */
export function consoleRoutes(files: Map<string, Asset> = consoleAssets()): Route[] {
  return [
    { method: "GET", path: "/", public: true, handle: async (ctx) => send(ctx, files.get("")) },
    { method: "GET", path: "/console/{file}", public: true, handle: async (ctx) => send(ctx, ctx.params.file ? files.get(ctx.params.file) : undefined) },
  ];
}
