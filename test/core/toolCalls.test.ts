/** The call stream splits generated text into content, call heads and argument fragments at any chunking. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CallStream, type CallPiece } from "../../src/core/toolCalls.js";
import { grammarForCalls } from "../../src/engines/llama/grammar/schemaGrammar.js";

const syntax = { prefix: "||call: ", paramsPrefix: "(", suffix: ")", between: "\n" };
const text = 'Let me look.||call: find_verse({"book": "Ruth", "note": "a } in {a string\\"", "n": [1, {"x": 2}]})\n||call: read_psalm({"number": 23})';

function run(chunks: string[]) {
  const stream = new CallStream(syntax, ["find_verse", "read_psalm"]);
  const pieces: CallPiece[] = chunks.flatMap((c) => stream.push(c));
  return { stream, pieces };
}

test("whole or a character at a time, the same content, calls and arguments", () => {
  for (const chunks of [[text], [...text], text.match(/.{1,5}/gs)!]) {
    const { stream, pieces } = run(chunks);
    assert.equal(pieces.filter((p) => p.type === "text").map((p) => (p as { text: string }).text).join(""), "Let me look.");
    assert.deepEqual(stream.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [
      ["find_verse", { book: "Ruth", note: 'a } in {a string"', n: [1, { x: 2 }] }],
      ["read_psalm", { number: 23 }],
    ]);
    const heads = pieces.filter((p) => p.type === "call");
    assert.equal(heads.length, 2);
    assert.ok(stream.complete);
    for (const [index, call] of stream.calls.entries()) {
      const args = pieces.filter((p) => p.type === "arguments" && p.index === index).map((p) => (p as { text: string }).text).join("");
      assert.equal(args, call.arguments);
    }
  }
});

test("a call cut before its end is incomplete", () => {
  const { stream } = run([text.slice(0, 40)]);
  assert.equal(stream.complete, false);
  assert.equal(run(["just text"]).stream.complete, true);
});

test("the grammar of calls names every offered function and, with text allowed, a text alternative", () => {
  const g = grammarForCalls([{ name: "a", parameters: { type: "object", properties: { n: { type: "integer" } } } }, { name: "b", parameters: { type: "object" } }], syntax, { many: true, text: true });
  assert.match(g, /^root ::= calls-\d+ \| text-\d+ calls-\d+\?$/m);
  assert.match(g, /"\|\|call: " \("a" "\(" /);
  assert.match(g, /\{0,7\}/, "at most 8 calls");
  const one = grammarForCalls([{ name: "a", parameters: { type: "object" } }], syntax, { many: false, text: false });
  assert.match(one, /^root ::= call-\d+$/m);
});
