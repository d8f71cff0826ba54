/** A minimal streaming client for the benchmark: times the first content chunk and the last one. */
import { request } from "undici";

export interface StreamTiming {
  status: number;
  /** ms from sending the request to the first generated text. */
  ttftMs: number;
  /** ms from the first to the last generated text. */
  decodeMs: number;
  completionTokens: number;
}

/** Streams `POST {baseURL}/{path}` (completions or chat/completions) and times it; extra headers such as a deadline pass through. */
export async function streamCompletion(baseURL: string, body: object, path = "completions", headers: Record<string, string> = {}): Promise<StreamTiming> {
  const send = () =>
    request(`${baseURL}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    });
  let started = performance.now();
  // a server may close an idle keep-alive connection just as a request is sent on it: nothing was asked yet, so ask again
  const res = await send().catch((error: { code?: string }) => {
    if (error.code !== "UND_ERR_SOCKET") throw error;
    started = performance.now();
    return send();
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    return { status: res.statusCode, ttftMs: NaN, decodeMs: NaN, completionTokens: 0 };
  }
  let buffer = "";
  let first = NaN;
  let last = NaN;
  let completionTokens = 0;
  let chunks = 0;
  for await (const chunk of res.body) {
    buffer += (chunk as Buffer).toString();
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const frame = buffer.slice(0, end).replace(/^data: /, "");
      buffer = buffer.slice(end + 2);
      if (frame === "[DONE]") continue;
      const event = JSON.parse(frame) as { choices: { text?: string; delta?: { content?: string } }[]; usage?: { completion_tokens: number } };
      if (event.usage) completionTokens = event.usage.completion_tokens;
      if (event.choices[0]?.text || event.choices[0]?.delta?.content) {
        const now = performance.now();
        if (Number.isNaN(first)) first = now;
        last = now;
        chunks++;
      }
    }
  }
  // a server that reports no usage streams one token per chunk (llama-server does)
  return { status: 200, ttftMs: first - started, decodeMs: last - first, completionTokens: completionTokens || chunks };
}
