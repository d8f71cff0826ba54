/**
 * Child process that measures one model's speed and memory: run alone, so its peak RSS is this model's and
 * nothing the parent loaded. Started by speed.ts with the job as JSON in argv[2]; answers over IPC.
 */
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { SpeedJob, type SpeedReply, type SpeedSample } from "./speedJob.js";

async function measure(job: SpeedJob): Promise<SpeedSample> {
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const rssBeforeLoadBytes = process.memoryUsage.rss();
  const loadStart = performance.now();
  const model = await llama.loadModel({ modelPath: job.model });
  const context = await model.createContext({
    contextSize: Math.max(job.prefillTokens, job.ttftPromptTokens + job.decodeTokens + 1) + 1,
    batchSize: job.prefillTokens,
    threads: job.threads,
    sequences: 1,
  });
  const loadMs = performance.now() - loadStart;
  const sequence = context.getSequence();
  const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
  const tokens = [...(bos === null ? [] : [bos]), ...model.tokenize(job.promptText, false)];
  if (tokens.length < Math.max(job.prefillTokens, job.ttftPromptTokens)) throw new Error(`the prompt text has only ${tokens.length} tokens`);
  const prefillPrompt = tokens.slice(0, job.prefillTokens);
  const shortPrompt = tokens.slice(0, job.ttftPromptTokens);

  const prefill = async (): Promise<number> => {
    await sequence.clearHistory();
    const start = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(prefillPrompt);
    return performance.now() - start;
  };
  /** Greedy generation from the short prompt: time to the first token, then the time of each further `n` tokens. */
  const generate = async (n: number): Promise<{ firstMs: number; restMs: number }> => {
    await sequence.clearHistory();
    const start = performance.now();
    // EOS is yielded and generation goes on, so every repetition decodes the same number of tokens.
    const tokensOut = sequence.evaluate(shortPrompt, { temperature: 0, yieldEogToken: true });
    let done = (await tokensOut.next()).done;
    const first = performance.now();
    for (let i = 0; i < n && !done; i++) done = (await tokensOut.next()).done;
    const end = performance.now();
    if (done) throw new Error("generation stopped before the requested token count");
    await tokensOut.return();
    return { firstMs: first - start, restMs: end - first };
  };

  await prefill(); // warm-up: first-touch page faults and allocator growth are load costs, not speed
  await generate(Math.min(8, job.decodeTokens));

  const prefillTokPerSec: number[] = [];
  const decodeTokPerSec: number[] = [];
  for (let r = 0; r < job.reps; r++) {
    prefillTokPerSec.push(job.prefillTokens / ((await prefill()) / 1000));
    decodeTokPerSec.push(job.decodeTokens / ((await generate(job.decodeTokens)).restMs / 1000));
  }
  const ttftMs: number[] = [];
  for (let r = 0; r < job.ttftReps; r++) ttftMs.push((await generate(0)).firstMs);
  const rssPeakBytes = process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
  await model.dispose();
  return { loadMs, rssBeforeLoadBytes, rssPeakBytes, prefillTokPerSec, decodeTokPerSec, ttftMs };
}

let reply: SpeedReply;
try {
  reply = { ok: true, sample: await measure(SpeedJob.parse(JSON.parse(process.argv[2] ?? ""))) };
} catch (error) {
  reply = { ok: false, error: (error as Error).message };
}
process.send!(reply, () => process.disconnect());
