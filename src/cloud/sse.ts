/**
 * Incremental server-sent events parser (the WHATWG event-stream format): lines end in CRLF, LF or CR, chunks may
 * split anywhere (inside a line ending or a UTF-8 character), `data:` lines of one event join with "\n", lines
 * starting with ":" are comments, and an event still missing its blank line when the source ends is dropped.
 */

export interface SseEvent {
  /** The `event:` name; "message" when the event named none. */
  event: string;
  data: string;
  id?: string;
}

export async function* parseSse(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const lineEnd = /\r\n|\r|\n/g;
  let buffer = "";
  let started = false;
  let data: string[] = [];
  let event = "";
  let id: string | undefined;

  /** One line of the stream; an event when the line is the blank one ending it. */
  const line = (text: string): SseEvent | undefined => {
    if (text === "") {
      const done = data.length > 0 ? { event: event || "message", data: data.join("\n"), ...(id !== undefined && { id }) } : undefined;
      data = [];
      event = "";
      return done;
    }
    if (text.startsWith(":")) return undefined;
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? "" : text.slice(text[colon + 1] === " " ? colon + 2 : colon + 1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id" && !value.includes("\0")) id = value;
    return undefined;
  };

  /** The complete lines in the buffer; a CR at its very end waits for the next chunk, which may bring its LF. */
  function* lines(final: boolean): Generator<SseEvent> {
    let start = 0;
    lineEnd.lastIndex = 0;
    for (let m = lineEnd.exec(buffer); m !== null; m = lineEnd.exec(buffer)) {
      if (!final && m[0] === "\r" && m.index === buffer.length - 1) break;
      const ended = line(buffer.slice(start, m.index));
      start = m.index + m[0].length;
      if (ended) yield ended;
    }
    buffer = buffer.slice(start);
  }

  for await (const chunk of source) {
    buffer += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    if (!started && buffer.length > 0) {
      started = true;
      if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
    }
    yield* lines(false);
  }
  buffer += decoder.decode();
  yield* lines(true);
}
