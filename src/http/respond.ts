/** Writes JSON responses and errors; an error after headers went out ends the stream with an error event. */
import type { ServerResponse } from "node:http";
import type { ApiError } from "./errors.js";

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export type ErrorShape = "openai" | "ollama" | "anthropic";

/** Answers with the error in the route's API shape; a response already under way is only ended. */
export function sendError(res: ServerResponse, error: ApiError, shape: ErrorShape): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) return void res.end();
  const body = shape === "ollama" ? error.ollamaBody() : shape === "anthropic" ? error.anthropicBody() : error.body();
  sendJson(res, error.status, body, error.headers);
}
