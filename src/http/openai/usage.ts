/** OpenAI's `usage` object of a generation. */
import type { GenerateResult } from "../../engines/llama/chatModel.js";

export const usageOf = (r: GenerateResult) => ({ prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens });
