/**
 * A chat model's first latency measurement, taken when it loads: without one the router would judge the device
 * by its priors, escalate whatever the priors call too slow, and never measure the device at all.
 */
import type { LlamaChatModel } from "../engines/llama/chatModel.js";
import type { Observation } from "./latencyModel.js";

const PROMPT = "In the beginning there was a small machine that answered every question it was asked, and it said";
const OUTPUT_TOKENS = 16;

export async function calibrate(model: LlamaChatModel): Promise<Observation> {
  const prompt = model.tokenizeText(PROMPT);
  const started = performance.now();
  let first = NaN;
  const result = await model.generate({
    prompt,
    maxTokens: OUTPUT_TOKENS,
    sampling: { temperature: 1, topP: 1, seed: 1 },
    stop: [],
    forget: true,
    signal: AbortSignal.timeout(10_000),
    onText: () => void (first = Number.isNaN(first) ? performance.now() : first),
  });
  const end = performance.now();
  if (Number.isNaN(first)) first = end;
  return { promptTokens: result.promptTokens, promptMs: first - started, outputTokens: result.completionTokens, outputMs: end - first };
}
