/** Ollama's request bodies: JSON whatever the Content-Type, as Ollama reads them (see BodyOptions). */
import type { IncomingMessage } from "node:http";
import { readJsonBody } from "../body.js";

export const readOllamaBody = (req: IncomingMessage, limit: number): Promise<unknown> => readJsonBody(req, limit, { anyContentType: true });
