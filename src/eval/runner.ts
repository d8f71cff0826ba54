/** Runs a suite's cases against one model, one at a time (a run measures the model, not the machine's queue), into eval.db. */
import { runCheck, type CheckContext, type CheckResult } from "./checks.js";
import { RefusedError, type CaseAnswer } from "./client.js";
import type { EvalStore } from "./store.js";
import type { EvalCase, Suite } from "./suite.js";

export interface CaseResult {
  caseId: string;
  answer?: CaseAnswer;
  checks: CheckResult[];
}

/** A refused request fails the case (every check, with the reason) and the run goes on; anything else stops it. */
export async function runCase(c: EvalCase, ctx: CheckContext): Promise<CaseResult> {
  const failAll = (why: string): CaseResult => ({ caseId: c.id, checks: c.checks.map((k) => ({ type: k.type, pass: false, value: 0, detail: why })) });
  let answer: CaseAnswer;
  try {
    answer = await ctx.client.answer(ctx.model, c);
  } catch (error) {
    if (error instanceof RefusedError) return failAll(`the request was refused: ${error.message}`);
    throw error;
  }
  const checks: CheckResult[] = [];
  for (const check of c.checks) {
    try {
      checks.push(await runCheck(check, c, answer, ctx));
    } catch (error) {
      if (!(error instanceof RefusedError)) throw error;
      checks.push({ type: check.type, pass: false, value: 0, detail: `the check could not be made: ${error.message}` });
    }
  }
  return { caseId: c.id, answer, checks };
}

/** Runs every case of the suite on `ctx.model` as one stored run; `onCase` hears of each as it is recorded. */
export async function runSuite(store: EvalStore, suite: Suite, ctx: CheckContext, onCase?: (done: number, result: CaseResult) => void): Promise<{ runId: number; results: CaseResult[] }> {
  const runId = store.begin(suite.path, suite.sha256, ctx.model);
  const results: CaseResult[] = [];
  for (const c of suite.cases) {
    const result = await runCase(c, ctx);
    store.record(runId, result);
    results.push(result);
    onCase?.(results.length, result);
  }
  store.finish(runId);
  return { runId, results };
}
