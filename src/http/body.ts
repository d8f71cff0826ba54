/** Reads a JSON request body: content type checked, size bounded before and while reading. */
import type { IncomingMessage } from "node:http";
import { apiErrors } from "./errors.js";

export interface BodyOptions {
  /**
   * Parse the body as JSON whatever its Content-Type says. Ollama does, and its documented examples are
   * `curl -d '{…}'`, which sends `application/x-www-form-urlencoded`. Safe beside the guard: a browser's
   * cross-origin form post carries an Origin, which it refuses.
   */
  anyContentType?: boolean;
}

export async function readJsonBody(req: IncomingMessage, limit: number, options: BodyOptions = {}): Promise<unknown> {
  const type = req.headers["content-type"];
  if (!options.anyContentType && (!type || !/^application\/json\s*(;|$)/i.test(type))) throw apiErrors.unsupportedMediaType(type);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw apiErrors.bodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw apiErrors.bodyTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text.trim()) throw apiErrors.invalidJson("the body is empty");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw apiErrors.invalidJson((error as Error).message);
  }
}
