import assert from "node:assert/strict";
import { test } from "node:test";
import { unsupportedSchemaReason } from "../../../src/engines/llama/grammar/jsonSchemaSubset.js";

test("schemas that a grammar can enforce are accepted", () => {
  const schemas = [
    { type: "object", properties: { name: { type: "string", maxLength: 20 }, sons: { type: "integer" } }, required: ["name", "sons"], additionalProperties: false },
    { type: "array", items: { enum: ["a", "b"] }, minItems: 1, maxItems: 3 },
    { $defs: { verse: { type: "object", properties: { text: { type: "string" } } } }, type: "array", items: { $ref: "#/$defs/verse" } },
    { anyOf: [{ type: "string", format: "date" }, { type: "null" }], description: "when" },
    { type: ["string", "null"], title: "maybe" },
  ];
  for (const s of schemas) assert.equal(unsupportedSchemaReason(s), undefined, JSON.stringify(s));
});

test("schemas it would silently ignore are refused with the path of the problem", () => {
  assert.match(unsupportedSchemaReason({ type: "object", properties: { a: { type: "no-such-type" } } })!, /properties\.a\.type/);
  assert.match(unsupportedSchemaReason({ type: "string", pattern: "^a+$" })!, /unsupported keyword "pattern"/);
  assert.match(unsupportedSchemaReason({ $ref: "#/properties/x" })!, /\$defs/);
  assert.match(unsupportedSchemaReason({ enum: "x" })!, /enum/);
});
