/**
 * GET /v1/benchmarks/{name} and /v1/benchmarks/{name}/chart: the latest results `edged bench quant` and
 * `edged bench peer` wrote into the package (JSON, and their SVG chart), for the console; 404 until one ran.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiError } from "../errors.js";
import { sendText } from "../respond.js";
import type { Route } from "../routes.js";

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../benchmarks/results");
const SHOWN = ["quant", "peer"];

async function result(name: string, extension: "json" | "svg"): Promise<string> {
  const path = join(RESULTS, `${name}.${extension}`);
  if (!SHOWN.includes(name)) throw new ApiError(404, `No benchmark ${name}: the console shows ${SHOWN.join(" and ")}`, "invalid_request_error", "benchmark_not_found", "name");
  if (!existsSync(path)) throw new ApiError(404, `No results of edged bench ${name} yet: run it to see them here`, "invalid_request_error", "benchmark_not_run", "name");
  return readFile(path, "utf8");
}

export function benchmarkRoutes(): Route[] {
  return [
    { method: "GET", path: "/v1/benchmarks/{name}", handle: async (ctx) => sendText(ctx.res, 200, await result(ctx.params.name!, "json"), "application/json") },
    { method: "GET", path: "/v1/benchmarks/{name}/chart", handle: async (ctx) => sendText(ctx.res, 200, await result(ctx.params.name!, "svg"), "image/svg+xml") },
  ];
}
