/** Grammars that force JSON output, compiled once per distinct schema. */
import { LlamaGrammar, type Llama } from "node-llama-cpp";
import { InvalidGrammarError } from "./errors.js";
import { unsupportedSchemaReason } from "./jsonSchemaSubset.js";

const MAX_CACHED = 64;

export class GrammarCache {
  private readonly schemas = new Map<string, Promise<LlamaGrammar>>();
  private json: Promise<LlamaGrammar> | undefined;

  constructor(private readonly llama: Llama) {}

  /** llama.cpp's JSON grammar, ended like node-llama-cpp's schema grammars: at a run of newlines after the value. */
  anyJson(): Promise<LlamaGrammar> {
    return (this.json ??= this.llama.getGrammarFor("json").then(
      (g) => new LlamaGrammar(this.llama, { grammar: g.grammar, rootRuleName: g.rootRuleName, stopGenerationTriggers: ["\n".repeat(4)], trimWhitespaceSuffix: true }),
    ));
  }

  async forSchema(schema: Record<string, unknown>): Promise<LlamaGrammar> {
    const unsupported = unsupportedSchemaReason(schema);
    if (unsupported) throw new InvalidGrammarError(`response_format.json_schema.schema cannot be enforced: ${unsupported}`);
    const key = JSON.stringify(schema);
    let grammar = this.schemas.get(key);
    if (!grammar) {
      grammar = Promise.resolve().then(async (): Promise<LlamaGrammar> => await this.llama.createGrammarForJsonSchema(schema as never));
      grammar.catch(() => this.schemas.delete(key));
      if (this.schemas.size >= MAX_CACHED) this.schemas.delete(this.schemas.keys().next().value!);
      this.schemas.set(key, grammar);
    }
    try {
      return await grammar;
    } catch (error) {
      throw new InvalidGrammarError(`response_format.json_schema.schema is not supported: ${(error as Error).message}`);
    }
  }
}
