/**
 * JSON constraints for generation: the grammar llama.cpp samples under, and the check each finished answer
 * passes before it is returned. Compiled once per distinct schema and kept in a bounded LRU cache.
 */
import type { Llama, LlamaGrammar } from "node-llama-cpp";
import { InvalidGrammarError } from "../errors.js";
import { unsupportedSchemaReason, type JsonSchemaNode } from "./jsonSchemaSubset.js";
import { grammarForCalls, grammarForSchema, type CallSyntax } from "./schemaGrammar.js";
import { validatorFor, type Validate } from "./schemaValidator.js";

export interface JsonConstraint {
  grammar: LlamaGrammar;
  /** Why a finished answer does not satisfy the constraint, or undefined when it does. */
  violation: Validate;
}

/**
 * Tool calls: the grammar of the template's call syntax from the first token, or (text allowed, `starts` given) none
 * until a call begins and then the grammar of its rest by the text that began it; and each function's check of its
 * arguments.
 */
export interface CallConstraint {
  grammar?: LlamaGrammar;
  afterStart?: ReadonlyMap<string, LlamaGrammar>;
  violation: ReadonlyMap<string, Validate>;
}

export interface CallFunction {
  name: string;
  parameters: Record<string, unknown>;
}

export class JsonConstraints {
  private readonly calls = new Map<string, Promise<CallConstraint>>();

  private readonly cache = new Map<string, Promise<JsonConstraint>>();

  constructor(
    private readonly llama: Llama,
    readonly maxCached = 64,
  ) {}

  /** Any JSON object (OpenAI's json_object, Ollama's "json"). */
  anyObject(): Promise<JsonConstraint> {
    return this.forSchema({ type: "object" }, "response_format");
  }

  /** The schema's constraint; `param` names the request field in errors (e.g. response_format.json_schema.schema). */
  forSchema(schema: Record<string, unknown>, param: string): Promise<JsonConstraint> {
    const unsupported = unsupportedSchemaReason(schema);
    if (unsupported) return Promise.reject(new InvalidGrammarError(`${param} cannot be enforced: ${unsupported}`, param));
    return this.remembered(this.cache, JSON.stringify(schema), () => this.compile(schema as JsonSchemaNode, param));
  }

  /**
   * The constraint of calls to these functions; `many` allows several calls in one answer, `text` a text answer
   * (or text, then calls) instead. With `text` and `starts` (the texts of the tokens a call can begin with, each a
   * beginning of the syntax's prefix), the grammar applies lazily: one grammar per start, of what follows it. With
   * `begun` (text a call certainly begins with, forced before sampling), the grammar of what follows it. A function
   * whose parameters cannot be enforced is refused naming it.
   */
  forCalls(functions: readonly CallFunction[], syntax: CallSyntax, options: { many: boolean; text: boolean; starts?: readonly string[]; begun?: string }): Promise<CallConstraint> {
    for (const [i, f] of functions.entries()) {
      const unsupported = unsupportedSchemaReason(f.parameters);
      const param = `tools.${i}.function.parameters`;
      if (unsupported) return Promise.reject(new InvalidGrammarError(`${param} cannot be enforced: ${unsupported}`, param));
    }
    return this.remembered(this.calls, JSON.stringify([functions, syntax, options]), async (): Promise<CallConstraint> => {
      const compile = (begun = options.begun) => {
        try {
          const text = grammarForCalls(functions.map((f) => ({ name: f.name, parameters: f.parameters as JsonSchemaNode })), syntax, { many: options.many, text: options.text, begun });
          return this.llama.createGrammar({ grammar: text });
        } catch (error) {
          if (error instanceof InvalidGrammarError) throw new InvalidGrammarError(`tools cannot be enforced: ${error.message}`, "tools");
          throw error;
        }
      };
      const violation = new Map(functions.map((f) => [f.name, validatorFor(f.parameters as JsonSchemaNode)]));
      const { starts = [] } = options;
      if (!options.text || starts.length === 0) return { grammar: await compile(), violation };
      const afterStart = new Map(await Promise.all(starts.map(async (s) => [s, await compile(s)] as const)));
      return { afterStart, violation };
    });
  }

  /** The cached compilation under `key` (now the most recently used), else a new one; a failed one is not kept. */
  private remembered<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
    const cached = cache.get(key);
    if (cached) {
      cache.delete(key); // most recently used last
      cache.set(key, cached);
      return cached;
    }
    const made = make();
    made.catch(() => cache.delete(key));
    if (cache.size >= this.maxCached) cache.delete(cache.keys().next().value!);
    cache.set(key, made);
    return made;
  }

  /** Compiled grammars kept: response schemas and tool sets. */
  get size(): number {
    return this.cache.size + this.calls.size;
  }

  private async compile(schema: JsonSchemaNode, param: string): Promise<JsonConstraint> {
    let text: string;
    try {
      text = grammarForSchema(schema);
    } catch (error) {
      if (error instanceof InvalidGrammarError) throw new InvalidGrammarError(`${param} cannot be enforced: ${error.message}`, param);
      throw error;
    }
    const grammar = await this.llama.createGrammar({ grammar: text });
    return { grammar, violation: validatorFor(schema) };
  }
}
