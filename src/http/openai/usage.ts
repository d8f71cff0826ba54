/** OpenAI's `usage` object of a generation. */
import type { GenerateResult } from "../../engines/llama/chatModel.js";

/** The token counts of an answer, local or from the cloud. */
export type TokenCounts = Pick<GenerateResult, "promptTokens" | "completionTokens">;

export const usageOf = (r: TokenCounts) => ({ prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens });

/** A stream's last chunks: the one with the finish reason, then, when asked for (`stream_options.include_usage`), usage with no choices. */
export function closingChunks<Base extends object>(base: Base, finishChoice: object, result: TokenCounts, includeUsage: boolean): object[] {
  return [{ ...base, choices: [finishChoice] }, ...(includeUsage ? [{ ...base, choices: [], usage: usageOf(result) }] : [])];
}
