/**
 * JSON constraints for generation: the grammar llama.cpp samples under, and the check each finished answer
 * passes before it is returned. Compiled once per distinct schema and kept in a bounded LRU cache.
 */
import type { Llama, LlamaGrammar } from "node-llama-cpp";
import { InvalidGrammarError } from "../errors.js";
import { unsupportedSchemaReason, type JsonSchemaNode } from "./jsonSchemaSubset.js";
import { grammarForSchema } from "./schemaGrammar.js";
import { validatorFor, type Validate } from "./schemaValidator.js";

export interface JsonConstraint {
  grammar: LlamaGrammar;
  /** Why a finished answer does not satisfy the constraint, or undefined when it does. */
  violation: Validate;
}

export class JsonConstraints {
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
    const key = JSON.stringify(schema);
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key); // most recently used last
      this.cache.set(key, cached);
      return cached;
    }
    const made = this.compile(schema as JsonSchemaNode, param);
    made.catch(() => this.cache.delete(key));
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, made);
    return made;
  }

  get size(): number {
    return this.cache.size;
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
