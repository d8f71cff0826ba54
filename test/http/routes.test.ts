import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../../src/http/errors.js";
import { RouteTable } from "../../src/http/routes.js";

const noop = async () => undefined;
const table = new RouteTable([
  { method: "GET", path: "/v1/models", handle: noop },
  { method: "GET", path: "/v1/models/{model}", handle: noop },
  { method: "POST", path: "/v1/chat/completions", handle: noop },
]);

test("matches literal and parameterised paths, decoding parameters", () => {
  assert.equal(table.match("GET", "/v1/models").route.path, "/v1/models");
  assert.deepEqual(table.match("GET", "/v1/models/edged-kjv%3Aq4_k_m").params, { model: "edged-kjv:q4_k_m" });
});

test("an unknown path is 404, a known path with another method is 405 listing the allowed ones", () => {
  assert.throws(() => table.match("GET", "/v1/nope"), (e: ApiError) => e.status === 404);
  assert.throws(() => table.match("GET", "/v1/models/a/b"), (e: ApiError) => e.status === 404);
  assert.throws(() => table.match("GET", "/v1/chat/completions"), (e: ApiError) => e.status === 405 && e.headers.allow === "POST");
});
