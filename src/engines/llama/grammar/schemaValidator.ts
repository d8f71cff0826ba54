/**
 * The check after the grammar: every finished answer is parsed and validated against its schema by ajv (JSON
 * Schema 2020-12 with the standard formats), so a gap in a grammar becomes an error with the reason, never a
 * silently wrong object.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { JsonSchemaNode } from "./jsonSchemaSubset.js";

const ajv = new Ajv2020({ strict: false, allErrors: false, validateSchema: false });
addFormats.default(ajv);

export type Validate = (text: string) => string | undefined;

/** A checker for answers under this schema: the reason an answer fails, or undefined when it is valid. */
export function validatorFor(schema: JsonSchemaNode | undefined): Validate {
  // $schema names other drafts' meta-schemas, which the 2020-12 validator does not load; the keywords are the same
  const { $schema: _, ...rest } = schema ?? { type: "object" };
  const check = ajv.compile(rest);
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return `the answer is not JSON (${(error as Error).message})`;
    }
    if (check(value)) return undefined;
    const first = check.errors?.[0];
    return first ? `${first.instancePath || "the value"} ${first.message ?? "is invalid"}` : "the value is invalid";
  };
}
