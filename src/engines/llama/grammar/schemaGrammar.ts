/**
 * Compiles the enforceable subset of JSON Schema (see jsonSchemaSubset.ts) to a GBNF grammar for llama.cpp.
 * What the grammar admits is a subset of what the schema accepts: integers never take a fraction or an
 * exponent, bounds are enforced digit by digit, strings count characters as JSON Schema does, and a schema the
 * grammar cannot enforce exactly is refused rather than loosened. Whitespace between tokens is bounded, and
 * nothing may follow the value, so a constrained generation ends when its value does.
 */
import { InvalidGrammarError } from "../errors.js";
import { integers, MAX_MAGNITUDE, naturals } from "./integerRange.js";
import type { JsonSchemaNode } from "./jsonSchemaSubset.js";

const group = (body: string) => (/[|\s]/.test(body) ? `(${body})` : body);

/** A GBNF string literal of the given text. */
export function literal(text: string): string {
  return `"${text.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`;
}

/** The shared terminals, named once. */
const TERMINALS: Record<string, string> = {
  ws: `| " " | "\\n" [ \\t]{0,16}`,
  // one character as JSON Schema counts them (a code point); escapes stop short of surrogates, which count twice
  char: `[^"\\\\\\x7F\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt] | "\\\\u" ([0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2})`,
  string: `"\\"" char* "\\""`,
  fraction: `"." [0-9]{0,14} [1-9]`,
  number: `"-"? ("0" | [1-9] [0-9]{0,14}) fraction? ([eE] [-+]? [1-9] [0-9]?)?`,
  integer: integers(undefined, undefined),
  boolean: `"true" | "false"`,
  null: `"null"`,
  value: `object | array | string | number | boolean | null`,
  object: `"{" ws (string ws ":" ws value (ws "," ws string ws ":" ws value)*)? ws "}"`,
  array: `"[" ws (value (ws "," ws value)*)? ws "]"`,
  "date-part": `[0-9]{4} "-" ("02-" ("0" [1-9] | "1" [0-9] | "2" [0-8]) | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | ("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01]))`,
  "time-part": `([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])`,
};

const FORMATS: Record<string, string> = {
  date: `"\\"" date-part "\\""`,
  time: `"\\"" time-part "\\""`,
  "date-time": `"\\"" date-part "T" time-part "\\""`,
  uuid: `"\\"" [0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12} "\\""`,
};

const SEPARATOR = `ws "," ws`;

class GrammarBuilder {
  private readonly rules = new Map<string, string>();
  private readonly named = new Map<string, string>();
  private next = 0;

  constructor(private readonly defs: Record<string, JsonSchemaNode>) {}

  /** A rule for the body, shared with any identical one. */
  rule(body: string, hint = "r"): string {
    if (/^[a-z][a-z0-9-]*$/.test(body)) return body;
    const existing = this.named.get(body);
    if (existing) return existing;
    const name = `${hint}-${this.next++}`;
    this.named.set(body, name);
    this.rules.set(name, body);
    return name;
  }

  /** The grammar text with `root` and every rule it reaches. */
  build(root: string): string {
    const lines = [`root ::= ${root}`, ...[...this.rules].map(([name, body]) => `${name} ::= ${body}`)];
    const text = lines.join("\n");
    // terminals refer to one another: add until closed
    const pending = new Set(Object.keys(TERMINALS).filter((t) => new RegExp(`(^|[\\s(|])${t}([\\s)|?*+{]|$)`, "m").test(text)));
    const added = new Set<string>();
    while (pending.size) {
      const [name] = pending;
      pending.delete(name!);
      if (added.has(name!)) continue;
      added.add(name!);
      const body = TERMINALS[name!]!;
      for (const t of Object.keys(TERMINALS)) if (!added.has(t) && new RegExp(`(^|[\\s(|])${t}([\\s)|?*+{]|$)`).test(body)) pending.add(t);
    }
    return [...lines, ...[...added].map((name) => `${name} ::= ${TERMINALS[name]}`)].join("\n");
  }

  /** The rule (or inline expression) of a schema node at `path` (for messages). */
  node(schema: JsonSchemaNode, path: string): string {
    const refuse = (why: string): never => {
      throw new InvalidGrammarError(`${why} at ${path || "the root"}`);
    };
    if (schema.const !== undefined) return literal(JSON.stringify(schema.const));
    if (Array.isArray(schema.enum)) return this.rule(schema.enum.map((v) => literal(JSON.stringify(v))).join(" | "), "enum");
    if (typeof schema.$ref === "string") return this.ref(schema.$ref, refuse);
    const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchemaNode[] | undefined;
    if (alternatives) {
      const { anyOf: _a, oneOf: _o, ...rest } = schema;
      return this.rule(alternatives.map((alt, i) => this.node({ ...rest, ...alt }, `${path}.${schema.anyOf ? "anyOf" : "oneOf"}.${i}`)).join(" | "), "alt");
    }
    const types = schema.type === undefined ? this.impliedTypes(schema) : Array.isArray(schema.type) ? schema.type : [schema.type];
    if (types.length === 0) return "value";
    if (types.length > 1) return this.rule(types.map((type) => this.node({ ...schema, type }, path)).join(" | "), "types");
    switch (types[0] as string) {
      case "string":
        return this.string(schema, refuse);
      case "integer":
        return this.integer(schema, refuse);
      case "number":
        return this.number(schema, refuse);
      case "boolean":
        return "boolean";
      case "null":
        return "null";
      case "object":
        return this.object(schema, path, refuse);
      case "array":
        return this.array(schema, path, refuse);
      default:
        return refuse(`unknown type "${String(types[0])}"`);
    }
  }

  private impliedTypes(schema: JsonSchemaNode): string[] {
    if (schema.properties || schema.additionalProperties !== undefined) return ["object"];
    if (schema.items !== undefined || schema.prefixItems) return ["array"];
    return [];
  }

  private ref(ref: string, refuse: (why: string) => never): string {
    const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref)?.[1];
    const def = name === undefined ? undefined : this.defs[name];
    if (!def) return refuse(`unresolvable reference "${ref}"`);
    const ruleName = `def-${name!.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${Object.keys(this.defs).indexOf(name!)}`;
    if (!this.rules.has(ruleName)) {
      this.rules.set(ruleName, "");
      this.rules.set(ruleName, this.node(def, `$defs.${name}`));
    }
    return ruleName;
  }

  private string(schema: JsonSchemaNode, refuse: (why: string) => never): string {
    const min = (schema.minLength as number | undefined) ?? 0;
    const max = schema.maxLength as number | undefined;
    if (schema.format !== undefined) {
      if (schema.minLength !== undefined || schema.maxLength !== undefined) refuse("format together with minLength or maxLength cannot be enforced");
      return this.rule(FORMATS[schema.format as string] ?? refuse(`unsupported format "${String(schema.format)}"`), "format");
    }
    if (max !== undefined && max < min) refuse("maxLength is below minLength");
    if (min === 0 && max === undefined) return "string";
    return this.rule(`"\\"" char{${min},${max ?? ""}} "\\""`, "string");
  }

  /** Inclusive integer bounds of an integer or number schema, exclusive ones folded in. */
  private integerBounds(schema: JsonSchemaNode, refuse: (why: string) => never): { low?: number; high?: number } {
    const read = (key: string) => {
      const v = schema[key];
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v)) refuse(`${key} must be an integer to be enforced`);
      if (Math.abs(v as number) > MAX_MAGNITUDE) refuse(`${key} is beyond ${MAX_MAGNITUDE}`);
      return v as number;
    };
    const min = read("minimum");
    const max = read("maximum");
    const exMin = read("exclusiveMinimum");
    const exMax = read("exclusiveMaximum");
    const lows = [min, exMin === undefined ? undefined : exMin + 1].filter((x): x is number => x !== undefined);
    const highs = [max, exMax === undefined ? undefined : exMax - 1].filter((x): x is number => x !== undefined);
    return { low: lows.length ? Math.max(...lows) : undefined, high: highs.length ? Math.min(...highs) : undefined };
  }

  private integer(schema: JsonSchemaNode, refuse: (why: string) => never): string {
    const { low, high } = this.integerBounds(schema, refuse);
    if (low === undefined && high === undefined) return "integer";
    const body = integers(low, high);
    return body ? this.rule(body, "int") : refuse("no integer lies between the bounds");
  }

  /**
   * A bounded number is an integer within the bounds, or k.f (0 < f < 1) whose whole interval (k, k+1) lies inside
   * them; with integer bounds that is exact, and an exclusive bound needs no special case because f > 0.
   */
  private number(schema: JsonSchemaNode, refuse: (why: string) => never): string {
    const bounded = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].some((k) => schema[k] !== undefined);
    if (!bounded) return "number";
    const { low, high } = this.integerBounds(schema, refuse);
    const defined = (...xs: unknown[]) => xs.filter((x): x is number => typeof x === "number");
    const lows = defined(schema.minimum, schema.exclusiveMinimum);
    const highs = defined(schema.maximum, schema.exclusiveMaximum);
    const lower = lows.length ? Math.max(...lows) : undefined;
    const upper = highs.length ? Math.min(...highs) : undefined;
    const parts: string[] = [];
    const whole = integers(low, high);
    if (whole) parts.push(group(whole));
    "fraction";
    // k.f for k >= 0: needs lower <= k and k + 1 <= upper
    const posFrom = Math.max(0, lower ?? 0);
    const posTo = upper === undefined ? MAX_MAGNITUDE : upper - 1;
    if (posFrom <= posTo) parts.push(`${group(naturals(posFrom, posTo))} fraction`);
    // -k.f for k >= 0 lies in (-(k+1), -k): needs lower <= -(k+1) and -k <= upper
    const negFrom = Math.max(0, upper === undefined ? 0 : -upper);
    const negTo = lower === undefined ? MAX_MAGNITUDE : -lower - 1;
    if (negFrom <= negTo) parts.push(`"-" ${group(naturals(negFrom, negTo))} fraction`);
    return parts.length ? this.rule(parts.join(" | "), "num") : refuse("no number lies between the bounds");
  }

  private object(schema: JsonSchemaNode, path: string, refuse: (why: string) => never): string {
    const properties = Object.entries((schema.properties ?? {}) as Record<string, JsonSchemaNode>);
    const required = new Set((schema.required ?? []) as string[]);
    for (const name of required) if (!properties.some(([key]) => key === name)) refuse(`required property "${name}" is not in properties`);
    if (properties.length === 0) return this.map(schema, path, refuse);
    if (schema.minProperties !== undefined || schema.maxProperties !== undefined) refuse("minProperties and maxProperties can be enforced only on objects without properties");
    const pair = (key: string, value: JsonSchemaNode) => `${literal(JSON.stringify(key))} ws ":" ws ${this.node(value, `${path}.properties.${key}`)}`;
    // members from i on, `first` when nothing was written before them (so no comma leads)
    const from = (i: number, first: boolean): string => {
      if (i === properties.length) return "";
      const [key, value] = properties[i]!;
      const present = `${first ? "" : `${SEPARATOR} `}${pair(key, value)} ${from(i + 1, false)}`.trim();
      if (required.has(key)) return this.rule(present, "members");
      const absent = from(i + 1, first);
      return this.rule(absent ? `${present} | ${absent}` : `(${present})?`, "members");
    };
    return this.rule(`"{" ws ${from(0, true)} ws "}"`, "object");
  }

  /** An object of any keys: values per additionalProperties, counted by min/maxProperties. */
  private map(schema: JsonSchemaNode, path: string, refuse: (why: string) => never): string {
    const extra = schema.additionalProperties;
    if (extra === false || (schema.properties !== undefined && extra === undefined)) {
      if (((schema.minProperties as number | undefined) ?? 0) > 0) refuse("minProperties cannot be met without properties");
      return `"{" ws "}"`;
    }
    const value = extra === undefined || extra === true ? "value" : this.node(extra as JsonSchemaNode, `${path}.additionalProperties`);
    const member = this.rule(`string ws ":" ws ${value}`, "member");
    return this.rule(`"{" ws ${this.repeat(member, (schema.minProperties as number | undefined) ?? 0, schema.maxProperties as number | undefined, refuse)} ws "}"`, "map");
  }

  /** `min` to `max` items separated by commas. */
  private repeat(item: string, min: number, max: number | undefined, refuse: (why: string) => never): string {
    if (max !== undefined && max < min) refuse("the maximum count is below the minimum");
    if (max === 0) return "";
    const more = `(${SEPARATOR} ${item})`;
    const tail = max === undefined ? `${more}${min <= 1 ? "*" : `{${min - 1},}`}` : max === 1 ? "" : `${more}{${Math.max(0, min - 1)},${max - 1}}`;
    const list = `${item} ${tail}`.trim();
    return min === 0 ? `(${list})?` : list;
  }

  private array(schema: JsonSchemaNode, path: string, refuse: (why: string) => never): string {
    const prefix = (schema.prefixItems ?? []) as JsonSchemaNode[];
    const min = (schema.minItems as number | undefined) ?? 0;
    const items = schema.items as JsonSchemaNode | false | undefined;
    const max = items === false ? Math.min(prefix.length, (schema.maxItems as number | undefined) ?? prefix.length) : (schema.maxItems as number | undefined);
    if (max !== undefined && max < min) refuse(items === false ? "minItems exceeds prefixItems while items is false" : "maxItems is below minItems");
    const item = items === undefined || items === false ? "value" : this.node(items, `${path}.items`);
    if (prefix.length === 0) return this.rule(`"[" ws ${this.repeat(item, min, max, refuse)} ws "]"`, "array");
    // the prefix positions one by one, then the rest of the items as one repetition
    const from = (i: number): string => {
      if (max !== undefined && i >= max) return "";
      if (i >= prefix.length) {
        const more = `(${SEPARATOR} ${item})`;
        const needed = Math.max(0, min - i);
        const optional = max === undefined ? "*" : `{0,${max - i - needed}}`;
        return `${needed ? `${more}{${needed}} ` : ""}${max !== undefined && max - i - needed === 0 ? "" : `${more}${optional}`}`.trim();
      }
      const present = `${i === 0 ? "" : `${SEPARATOR} `}${this.node(prefix[i]!, `${path}.prefixItems.${i}`)} ${from(i + 1)}`.trim();
      return i < min ? this.rule(present, "items") : this.rule(`(${present})?`, "items");
    };
    return this.rule(`"[" ws ${from(0)} ws "]"`, "array");
  }
}

/** The GBNF grammar of a schema; throws InvalidGrammarError naming what cannot be enforced. */
export function grammarForSchema(schema: JsonSchemaNode): string {
  const builder = new GrammarBuilder({ ...((schema.definitions ?? {}) as Record<string, JsonSchemaNode>), ...((schema.$defs ?? {}) as Record<string, JsonSchemaNode>) });
  return builder.build(builder.node(schema, ""));
}

/** Calls in one answer at the most: a small model may otherwise call on and on until max_tokens. */
export const MAX_CALLS = 8;

/** How a chat template writes a call: `prefix name paramsPrefix {arguments} suffix`, calls `between` one another. */
export interface CallSyntax {
  prefix: string;
  paramsPrefix: string;
  suffix: string;
  between: string;
}

/**
 * The grammar of tool calls in the template's syntax: one call or several, each naming one of the functions and
 * its arguments valid for that function's schema; with `text`, an answer may instead be text, or text then calls
 * (text that never starts the call syntax, so a call can only begin where the grammar constrains it). With `begun`,
 * the grammar of the calls' rest once this much of the first call was generated: a beginning of its prefix (a
 * lazily applied grammar: the text before was sampled without one), or a whole head `prefix name paramsPrefix`
 * (a call certain before sampling, its head forced).
 */
export function grammarForCalls(functions: readonly { name: string; parameters: JsonSchemaNode }[], syntax: CallSyntax, options: { many: boolean; text: boolean; begun?: string }): string {
  const defs = Object.assign({}, ...functions.map((f) => ({ ...((f.parameters.definitions ?? {}) as object), ...((f.parameters.$defs ?? {}) as object) })));
  const builder = new GrammarBuilder(defs);
  const params = functions.map((f, i) => builder.node(f.parameters, `tools.${i}.parameters`));
  const alternatives = functions.map((f, i) => `${literal(f.name)} ${literal(syntax.paramsPrefix)} ${params[i]}`);
  const callAfter = (prefix: string, hint: string) => builder.rule(`${prefix ? `${literal(prefix)} ` : ""}(${alternatives.join(" | ")}) ${literal(syntax.suffix)}`, hint);
  const call = callAfter(syntax.prefix, "call");
  const { begun } = options;
  const firstCall = (): string => {
    if (begun === undefined) return call;
    if (syntax.prefix.startsWith(begun)) return callAfter(syntax.prefix.slice(begun.length), "first-call");
    const i = functions.findIndex((f) => begun === `${syntax.prefix}${f.name}${syntax.paramsPrefix}`);
    if (i < 0) throw new Error(`no call of these functions begins with ${JSON.stringify(begun)}`);
    return builder.rule(`${params[i]} ${literal(syntax.suffix)}`, "first-call");
  };
  const first = firstCall();
  const calls = options.many ? builder.rule(`${first} (${literal(syntax.between)} ${call}){0,${MAX_CALLS - 1}}`, "calls") : first;
  if (!options.text || begun !== undefined) return builder.build(calls);
  const start = syntax.prefix[0]!;
  const text = builder.rule(`[^${start.replace(/[\\\]^-]/g, "\\$&")}]+`, "text");
  return builder.build(`${calls} | ${text} ${calls}?`);
}
