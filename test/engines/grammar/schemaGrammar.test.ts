/** What the schema compiler refuses (rather than loosen), named by the path of the problem. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidGrammarError } from "../../../src/engines/llama/errors.js";
import { grammarForSchema } from "../../../src/engines/llama/grammar/schemaGrammar.js";

const refused = (schema: Record<string, unknown>, pattern: RegExp) =>
  assert.throws(() => grammarForSchema(schema), (e: Error) => e instanceof InvalidGrammarError && pattern.test(e.message), JSON.stringify(schema));

test("bounds the grammar cannot enforce exactly are refused", () => {
  refused({ type: "number", minimum: 0.5 }, /minimum must be an integer to be enforced at the root/);
  refused({ type: "object", properties: { n: { type: "integer", minimum: 5, maximum: 4 } } }, /no integer lies between the bounds at \.properties\.n/);
  refused({ type: "integer", maximum: 1e16 }, /maximum is beyond/);
  refused({ type: "string", minLength: 4, maxLength: 2 }, /maxLength is below minLength/);
  refused({ type: "array", minItems: 3, maxItems: 2 }, /maxItems is below minItems/);
  refused({ type: "object", additionalProperties: { type: "integer" }, minProperties: 3, maxProperties: 2 }, /below the minimum/);
  refused({ type: "array", prefixItems: [{ type: "string" }], items: false, minItems: 2 }, /minItems exceeds prefixItems/);
  refused({ type: "string", format: "date", maxLength: 4 }, /format together with minLength or maxLength/);
});

test("schemas that contradict themselves are refused", () => {
  refused({ type: "object", properties: { a: { type: "string" } }, required: ["b"] }, /required property "b" is not in properties/);
  refused({ $ref: "#/$defs/missing" }, /unresolvable reference/);
  refused({ type: "object", additionalProperties: false, minProperties: 1 }, /minProperties cannot be met/);
  refused({ type: "object", properties: { a: { type: "string" } }, minProperties: 1 }, /only on objects without properties/);
});

test("the grammar ends with its value and reuses shared rules", () => {
  const text = grammarForSchema({ type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } }, required: ["a", "b"] });
  assert.match(text, /^root ::= /);
  assert.equal(text.match(/^integer ::= /gm)?.length, 1, "one integer rule for both properties");
  assert.doesNotMatch(text.split("\n")[0]!, /ws$/, "nothing may follow the value");
  assert.doesNotMatch(text, /\[eE\]/, "no exponent where only integers are asked for");
});
