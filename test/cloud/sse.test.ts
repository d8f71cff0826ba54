import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSse, type SseEvent } from "../../src/cloud/sse.js";

async function parse(chunks: (Uint8Array | string)[]): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of parseSse((async function* () { yield* chunks; })())) events.push(event);
  return events;
}

const STREAM =
  ": a comment, ignored\r\n" +
  "event: message_start\r\n" +
  "data: {\"text\":\"héllo wörld 🌍\"}\r\n" +
  "\r\n" +
  "data: first line\n" +
  "data:second line, no space\n" +
  "data:  two spaces keep one\n" +
  "id: 7\n" +
  "\n" +
  "event: ping\r" +
  "data\r" +
  "\r" +
  "event: unnamed-without-data\n" +
  "\n" +
  "data: 漢字 at the end\n\n" +
  "data: an event never ended by a blank line";

const EXPECTED: SseEvent[] = [
  { event: "message_start", data: '{"text":"héllo wörld 🌍"}' },
  { event: "message", data: "first line\nsecond line, no space\n two spaces keep one", id: "7" },
  { event: "ping", data: "", id: "7" },
  { event: "message", data: "漢字 at the end", id: "7" },
];

test("parses names, multi-line data, comments, ids and every line ending; drops an event missing its blank line", async () => {
  assert.deepEqual(await parse([STREAM]), EXPECTED);
});

test("gives the same events however the bytes are split, inside CRLF pairs and UTF-8 characters too", async () => {
  const bytes = new TextEncoder().encode(STREAM);
  for (let at = 1; at < bytes.length; at++) {
    assert.deepEqual(await parse([bytes.subarray(0, at), bytes.subarray(at)]), EXPECTED, `split at byte ${at}`);
  }
  assert.deepEqual(await parse([...bytes].map((b) => Uint8Array.of(b))), EXPECTED, "one byte per chunk");
});

test("a CR ending one chunk and an LF starting the next are one line ending, not two", async () => {
  assert.deepEqual(await parse(["data: a\r", "\ndata: b\r", "\n\r", "\n"]), [{ event: "message", data: "a\nb" }]);
});

test("a lone CR at the very end of the stream still ends its line", async () => {
  assert.deepEqual(await parse(["data: last\r\r"]), [{ event: "message", data: "last" }]);
});
