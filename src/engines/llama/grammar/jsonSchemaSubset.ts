/**
 * The part of JSON Schema that edged's grammar compiler (schemaGrammar.ts) enforces. Any other keyword is
 * refused here, with its path, so a client learns that its schema would not be enforced instead of getting
 * answers that ignore it.
 */
import { z } from "zod";

const PRIMITIVES = ["string", "number", "integer", "boolean", "null", "object", "array"] as const;
const annotations = { title: z.string().optional(), description: z.string().optional(), default: z.unknown().optional(), examples: z.unknown().optional() };

export type JsonSchemaNode = { [key: string]: unknown };

export const JsonSchemaNode: z.ZodType<JsonSchemaNode> = z.lazy(() =>
  z
    .object({
      ...annotations,
      type: z.union([z.enum(PRIMITIVES), z.array(z.enum(PRIMITIVES)).min(1)]).optional(),
      enum: z.array(z.unknown()).min(1).optional(),
      const: z.unknown().optional(),
      properties: z.record(z.string(), JsonSchemaNode).optional(),
      required: z.array(z.string()).optional(),
      additionalProperties: z.union([z.boolean(), JsonSchemaNode]).optional(),
      minProperties: z.number().int().nonnegative().optional(),
      maxProperties: z.number().int().nonnegative().optional(),
      items: z.union([JsonSchemaNode, z.literal(false)]).optional(),
      prefixItems: z.array(JsonSchemaNode).optional(),
      minItems: z.number().int().nonnegative().optional(),
      maxItems: z.number().int().nonnegative().optional(),
      minLength: z.number().int().nonnegative().optional(),
      maxLength: z.number().int().nonnegative().optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
      exclusiveMinimum: z.number().optional(),
      exclusiveMaximum: z.number().optional(),
      format: z.enum(["date-time", "time", "date", "uuid"]).optional(),
      oneOf: z.array(JsonSchemaNode).min(1).optional(),
      anyOf: z.array(JsonSchemaNode).min(1).optional(),
      $ref: z.string().regex(/^#\/(\$defs|definitions)\/[^/]+$/, 'references must have the form "#/$defs/name"').optional(),
      $defs: z.record(z.string(), JsonSchemaNode).optional(),
      definitions: z.record(z.string(), JsonSchemaNode).optional(),
      $schema: z.string().optional(),
    })
    .strict(),
);

/** The first problem with the schema, named by its JSON path, or undefined when it is supported. */
export function unsupportedSchemaReason(schema: unknown): string | undefined {
  const result = JsonSchemaNode.safeParse(schema);
  if (result.success) return undefined;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? `at ${issue.path.map(String).join(".")}` : "at the root";
  const what = issue.code === "unrecognized_keys" ? `unsupported keyword ${issue.keys.map((k) => `"${k}"`).join(", ")}` : issue.message;
  return `${what} ${where}`;
}
