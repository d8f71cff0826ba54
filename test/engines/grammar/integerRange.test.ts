/**
 * The integer-range grammars, checked exhaustively: every integer in a window is matched exactly when it lies in
 * the range. The range grammars use only literals, digit classes, counted repetition, groups and alternation, so
 * a regular expression reads them the same way llama.cpp does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { integers, naturals } from "../../../src/engines/llama/grammar/integerRange.js";

function toRegExp(gbnf: string): RegExp {
  const source = gbnf
    .replace(/"([^"]*)"/g, (_, text: string) => text.replace(/[-.*+?^$()|[\]\\]/g, "\\$&"))
    .replace(/\s+/g, "");
  return new RegExp(`^(?:${source})$`);
}

const window = Array.from({ length: 4001 }, (_, i) => i - 2000);

test("naturals: exactly the numbers from low to high, without leading zeros", () => {
  for (const [low, high] of [[0, 0], [0, 9], [3, 7], [0, 10], [7, 1234], [10, 99], [100, 999], [101, 1998], [9, 1000], [1, 1]]) {
    const re = toRegExp(naturals(low!, high!));
    for (const n of window.filter((x) => x >= 0)) assert.equal(re.test(String(n)), n >= low! && n <= high!, `${n} in [${low}, ${high}]`);
    assert.ok(!re.test(`0${low}`), "no leading zero");
  }
});

test("integers: negative, mixed and one-sided ranges, no -0 and no exponents", () => {
  const ranges: [number | undefined, number | undefined][] = [[-5, 5], [-1999, -3], [-120, 0], [0, 120], [-7, undefined], [undefined, -13], [42, undefined], [undefined, 1500], [-1, -1], [undefined, undefined]];
  for (const [low, high] of ranges) {
    const re = toRegExp(integers(low, high));
    for (const n of window) assert.equal(re.test(String(n)), (low === undefined || n >= low) && (high === undefined || n <= high), `${n} in [${low}, ${high}]`);
    for (const text of ["-0", "1e3", "-3e-9", "1.0", "01", "+1"]) assert.ok(!re.test(text), `${text} is not an integer here`);
  }
  assert.ok(toRegExp(integers(undefined, undefined)).test("999999999999999"), "15 digits");
  assert.ok(!toRegExp(integers(undefined, undefined)).test("9999999999999999"), "16 digits would leave the safe integers");
  assert.equal(integers(5, 4), "", "an empty range has no grammar");
});
