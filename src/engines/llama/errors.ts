/** Failures of a generation: the request's fault (context, grammar), or a constrained answer that failed its check. */
export class ContextLengthError extends Error {
  override name = "ContextLengthError";
  constructor(readonly promptTokens: number, readonly contextSize: number, readonly param: string) {
    super(`This model's maximum context length is ${contextSize} tokens, but the prompt has ${promptTokens} tokens. Shorten the ${param}.`);
  }
}

export class InvalidGrammarError extends Error {
  override name = "InvalidGrammarError";
  constructor(message: string, readonly param = "response_format") {
    super(message);
  }
}

/** A finished answer that does not satisfy its schema: a gap in the grammar, reported instead of returned. */
export class SchemaViolationError extends Error {
  override name = "SchemaViolationError";
  constructor(readonly reason: string) {
    super(`The model's answer does not match the requested schema: ${reason}`);
  }
}
