/** Failures of a generation request that are the request's fault. */
export class ContextLengthError extends Error {
  override name = "ContextLengthError";
  constructor(readonly promptTokens: number, readonly contextSize: number, readonly param: string) {
    super(`This model's maximum context length is ${contextSize} tokens, but the prompt has ${promptTokens} tokens. Shorten the ${param}.`);
  }
}

export class InvalidGrammarError extends Error {
  override name = "InvalidGrammarError";
}
