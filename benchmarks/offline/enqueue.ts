/**
 * The benchmark's deferred requests: request i, what the fake cloud will answer to it, and sending them all to the
 * daemon from concurrent clients (even i straight to POST /v1/queue, odd i as chat requests allowing deferral).
 */
import { Pool } from "undici";

export type Path = "queue" | "chat";

export interface Enqueued {
  i: number;
  path: Path;
  status: number;
  /** From sending the request to the whole answer. */
  ms: number;
  /** The job's id when accepted (202). */
  id?: string;
}

const MODEL = "edged-kjv:q4_k_m";

export const pathOf = (i: number): Path => (i % 2 === 0 ? "queue" : "chat");
export const keyOf = (i: number) => `bench-offline-${i}`;
const prompt = (i: number) => `Job ${i} asks for the yield of field ${i % 97} after the rain`;
/** The fake cloud's answer (test/fakeCloud/protocols.ts): the word count, then the text. */
export const expectedAnswer = (i: number) => `You said ${prompt(i).split(" ").length} words: ${prompt(i)}`;

/** max_tokens 300 is over the device's 50 ms budget, so a chat request wants the cloud and is deferred. */
function requestOf(i: number) {
  const path = pathOf(i);
  const headers: Record<string, string> = { "content-type": "application/json", "idempotency-key": keyOf(i) };
  if (path === "chat") headers["x-edged-allow-defer"] = "true";
  const body = JSON.stringify({ model: MODEL, max_tokens: 300, messages: [{ role: "user", content: prompt(i) }] });
  return { path: path === "queue" ? "/v1/queue" : "/v1/chat/completions", method: "POST" as const, headers, body };
}

/** Sends requests 0..n-1 over `clients` keep-alive connections, each client taking the next request when done. */
export async function enqueueAll(url: string, n: number, clients: number, onProgress: (sent: number) => void): Promise<Enqueued[]> {
  const pool = new Pool(url, { connections: clients });
  const out: Enqueued[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = next++; i < n; i = next++) {
          const started = performance.now();
          const res = await pool.request(requestOf(i));
          const body = (await res.body.json()) as { id?: string };
          out.push({ i, path: pathOf(i), status: res.statusCode, ms: performance.now() - started, ...(res.statusCode === 202 && { id: body.id }) });
          if (out.length % 1000 === 0) onProgress(out.length);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return out.sort((a, b) => a.i - b.i);
}
