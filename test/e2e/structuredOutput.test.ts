/**
 * Structured output keeps its schema on the bundled model: many seeds at temperature 1, each answer checked by an
 * independent validator (ajv), through the official openai and ollama clients. A schema the grammar cannot
 * enforce is a 400; an answer that slips through a grammar gap is a 500 with the reason, never a wrong object.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startDaemon, type RunningDaemon } from "../helpers/daemon.js";

const MODEL = "edged-kjv:q4_k_m";
const SEEDS = 12;
let daemon: RunningDaemon;
let client: OpenAI;

const ajv = new Ajv2020({ strict: true });
addFormats.default(ajv);

const object = (properties: Record<string, object>) => ({ type: "object", properties, required: Object.keys(properties), additionalProperties: false });
const SCHEMAS: Record<string, object> = {
  integer: object({ age: { type: "integer" } }),
  bounded_integer: object({ year: { type: "integer", minimum: -40, maximum: 2026 }, count: { type: "integer", exclusiveMinimum: 0, exclusiveMaximum: 13 } }),
  number: object({ weight: { type: "number" }, share: { type: "number", minimum: -1, maximum: 1 } }),
  enum: object({ tribe: { enum: ["Judah", "Levi", "Dan", "Asher"] }, blessed: { type: "boolean" } }),
  string_length: object({ name: { type: "string", minLength: 2, maxLength: 8 }, code: { type: "string", maxLength: 3 } }),
  array: object({ sons: { type: "array", items: { type: "string", maxLength: 6 }, minItems: 1, maxItems: 3 }, pair: { type: "array", prefixItems: [{ type: "integer" }, { type: "boolean" }], items: false, minItems: 2 } }),
  nested: object({
    person: object({ name: { type: "string", maxLength: 10 }, home: object({ city: { enum: ["Zion", "Bethel"] }, founded: { type: "string", format: "date" } }) }),
    note: { anyOf: [{ type: "string", maxLength: 5 }, { type: "null" }] },
  }),
  optional: { type: "object", properties: { a: { type: "integer", minimum: 0, maximum: 9 }, b: { type: "string", format: "uuid" }, c: { type: "boolean" } }, required: ["c"], additionalProperties: false },
};

before(async () => {
  daemon = await startDaemon();
  client = new OpenAI({ baseURL: daemon.baseURL, apiKey: "unused", maxRetries: 0 });
});
after(async () => {
  await daemon?.stop();
});

const ask = (name: string, schema: object, seed: number): OpenAI.ChatCompletionCreateParamsNonStreaming => ({
  model: MODEL,
  messages: [{ role: "user", content: `Answer as JSON: the ${name.replace("_", " ")} of the house of Jacob.` }],
  max_tokens: 400,
  temperature: 1,
  seed,
  response_format: { type: "json_schema", json_schema: { name, strict: true, schema: schema as Record<string, unknown> } },
});

test("every answer validates against its schema, across seeds at temperature 1", async () => {
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    const validate = ajv.compile(schema);
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await client.chat.completions.create(ask(name, schema, seed));
      const { content } = r.choices[0]!.message;
      assert.equal(r.choices[0]!.finish_reason, "stop", `${name} seed ${seed} finished: ${content}`);
      const value = JSON.parse(content!);
      assert.ok(validate(value), `${name} seed ${seed}: ${content} ${ajv.errorsText(validate.errors)}`);
    }
  }
});

test("a streamed structured answer reassembles into a valid object", async () => {
  const validate = ajv.compile(SCHEMAS.nested!);
  for (let seed = 1; seed <= 4; seed++) {
    const stream = await client.chat.completions.create({ ...ask("nested", SCHEMAS.nested!, seed), stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.ok(validate(JSON.parse(text)), `${text} ${ajv.errorsText(validate.errors)}`);
  }
});

test("Ollama's format takes a schema the same way", async () => {
  const ollama = new Ollama({ host: daemon.url });
  const validate = ajv.compile(SCHEMAS.bounded_integer!);
  for (let seed = 1; seed <= 6; seed++) {
    const r = await ollama.chat({ model: MODEL, messages: [{ role: "user", content: "When and how many?" }], format: SCHEMAS.bounded_integer, options: { temperature: 1, seed, num_predict: 200 } });
    assert.ok(validate(JSON.parse(r.message.content)), `${r.message.content} ${ajv.errorsText(validate.errors)}`);
  }
});

test("schemas the grammar cannot enforce are refused with 400 naming the keyword", async () => {
  const refused = async (schema: object, pattern: RegExp) => {
    const error = await client.chat.completions.create(ask("refused", schema, 1)).then(
      () => assert.fail(`accepted ${JSON.stringify(schema)}`),
      (e: InstanceType<typeof OpenAI.APIError>) => e,
    );
    assert.equal(error.status, 400);
    assert.equal((error.error as { param?: string }).param, "response_format.json_schema.schema");
    assert.match(error.message, pattern);
  };
  await refused(object({ code: { type: "string", pattern: "^[A-Z]+$" } }), /unsupported keyword "pattern" at properties\.code/);
  await refused(object({ p: { type: "number", minimum: 0.5 } }), /minimum must be an integer/);
  await refused(object({ n: { type: "integer", minimum: 3, maximum: 2 } }), /no integer lies between the bounds/);
});

test("an answer that slips through the grammar is a 500 with the reason, streamed or not", async () => {
  // both branches accept every digit, so each answer matches two of oneOf's schemas: invalid by definition
  const overlap = object({ digit: { oneOf: [{ type: "integer", minimum: 0, maximum: 9 }, { type: "integer", minimum: 0, maximum: 9 }] } });
  const error = await client.chat.completions.create(ask("overlap", overlap, 1)).then(
    () => assert.fail("a schema-violating answer was returned"),
    (e: InstanceType<typeof OpenAI.APIError>) => e,
  );
  assert.equal(error.status, 500);
  assert.equal(error.code, "schema_violation");
  assert.match(error.message, /does not match the requested schema: \/digit must match exactly one schema in oneOf/);
  const stream = await client.chat.completions.create({ ...ask("overlap", overlap, 2), stream: true });
  await assert.rejects(async () => {
    for await (const _ of stream);
  }, /does not match the requested schema/);
  assert.equal((await client.chat.completions.create(ask("integer", SCHEMAS.integer!, 3))).choices[0]!.finish_reason, "stop", "the daemon serves on");
});
