/** What the parent asks a speed-measuring child process to do, and what the child answers. */
import { z } from "zod";

export const SpeedJob = z.object({
  model: z.string(),
  threads: z.number().int().positive(),
  /** Text the prompts are cut from; tokenized in the child so every type gets the same tokens. */
  promptText: z.string(),
  prefillTokens: z.number().int().positive(),
  decodeTokens: z.number().int().positive(),
  ttftPromptTokens: z.number().int().positive(),
  reps: z.number().int().positive(),
  ttftReps: z.number().int().positive(),
});
export type SpeedJob = z.infer<typeof SpeedJob>;

export const SpeedSample = z.object({
  loadMs: z.number(),
  rssBeforeLoadBytes: z.number(),
  rssPeakBytes: z.number(),
  prefillTokPerSec: z.array(z.number()),
  decodeTokPerSec: z.array(z.number()),
  ttftMs: z.array(z.number()),
});
export type SpeedSample = z.infer<typeof SpeedSample>;

export const SpeedReply = z.union([z.object({ ok: z.literal(true), sample: SpeedSample }), z.object({ ok: z.literal(false), error: z.string() })]);
export type SpeedReply = z.infer<typeof SpeedReply>;
