import assert from "node:assert/strict";
import { test } from "node:test";
import { halfToFloat, toBFloat16, toHalf } from "../../src/gguf/halfFloat.js";

test("half floats: exact values, rounding to nearest even, overflow, subnormals and nan", () => {
  for (const v of [0, 1, -1, 0.5, 2, 65504, -65504, 1 / 1024, 0.333251953125]) assert.equal(halfToFloat(toHalf(v)), v);
  assert.equal(toHalf(1), 0x3c00);
  assert.equal(toHalf(-2), 0xc000);
  assert.equal(toHalf(1 + 2 ** -11), 0x3c00); // a tie rounds to the even mantissa
  assert.equal(toHalf(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(toHalf(70000), 0x7c00);
  assert.equal(toHalf(-Infinity), 0xfc00);
  assert.equal(halfToFloat(toHalf(2 ** -24)), 2 ** -24); // smallest subnormal
  assert.equal(toHalf(2 ** -26), 0); // below half the smallest subnormal
  assert.ok(Number.isNaN(halfToFloat(toHalf(NaN))));
  assert.ok(Math.abs(halfToFloat(toHalf(Math.PI)) - Math.PI) < 1e-3);
});

test("bfloat16 keeps the float32 exponent and rounds the mantissa", () => {
  assert.equal(toBFloat16(1), 0x3f80);
  assert.equal(toBFloat16(-2), 0xc000);
  assert.equal(toBFloat16(1e30), 0x714a); // 0x7149f2ca rounds up
  assert.equal(toBFloat16(Infinity), 0x7f80);
  assert.equal(toBFloat16(NaN) & 0x7fc0, 0x7fc0);
});
