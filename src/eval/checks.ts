/**
 * Each check of a case judged on its answer: a value from 0 to 1 (1 or 0 for the yes-or-no checks; the cosine,
 * the mean token probability or the grade for the graded ones) and whether it passes.
 */
import { validatorFor } from "../engines/llama/grammar/schemaValidator.js";
import type { JsonSchemaNode } from "../engines/llama/grammar/jsonSchemaSubset.js";
import type { CaseAnswer, EvalClient } from "./client.js";
import type { Check, CheckType, EvalCase } from "./suite.js";

export interface CheckResult {
  type: CheckType;
  pass: boolean;
  value: number;
  /** Why it failed, or what was measured. */
  detail?: string;
}

export interface CheckContext {
  client: EvalClient;
  model: string;
  /** The embedding model for similarity checks. */
  embeddingModel: string;
}

const yes = (type: CheckType, pass: boolean, detail?: string): CheckResult => ({ type, pass, value: pass ? 1 : 0, ...(detail && !pass && { detail }) });

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** The question as a judge reads it: the last user turn, or the prompt. */
function questionOf(c: EvalCase): string {
  if (c.prompt !== undefined) return c.prompt;
  const user = [...c.messages!].reverse().find((m) => m.role === "user");
  return typeof user?.content === "string" ? user.content : JSON.stringify(user?.content ?? "");
}

export async function runCheck(check: Check, c: EvalCase, answer: CaseAnswer, ctx: CheckContext): Promise<CheckResult> {
  const text = answer.text;
  switch (check.type) {
    case "exact":
      return yes("exact", text.trim() === check.value.trim(), `the answer is ${JSON.stringify(text.slice(0, 80))}`);
    case "contains": {
      const found = check.ignore_case ? text.toLowerCase().includes(check.value.toLowerCase()) : text.includes(check.value);
      return yes("contains", found, `${JSON.stringify(check.value)} is not in the answer`);
    }
    case "regex":
      return yes("regex", new RegExp(check.pattern, check.flags).test(text), `the answer does not match /${check.pattern}/${check.flags}`);
    case "json_schema": {
      const wrong = validatorFor(check.schema as JsonSchemaNode)(text);
      return yes("json_schema", !wrong, wrong);
    }
    case "tool_call": {
      const call = answer.toolCalls.find((t) => t.name === check.name);
      if (!call) return yes("tool_call", false, `no call of ${check.name} (${answer.toolCalls.map((t) => t.name).join(", ") || "no calls"})`);
      const wrong = check.arguments ? validatorFor(check.arguments as JsonSchemaNode)(call.arguments) : undefined;
      return yes("tool_call", !wrong, wrong && `the arguments of ${check.name}: ${wrong}`);
    }
    case "similarity": {
      const [a, b] = await ctx.client.embed(ctx.embeddingModel, [text || " ", check.reference]);
      const value = Math.max(0, cosine(a!, b!));
      return { type: "similarity", pass: value >= check.min, value, detail: `cosine ${value.toFixed(3)}` };
    }
    case "loglik": {
      const { logprob, tokens } = await ctx.client.loglik(ctx.model, check.context ?? c.prompt!, check.continuation);
      const value = tokens ? Math.exp(logprob / tokens) : 0;
      return { type: "loglik", pass: value >= check.min, value, detail: `${tokens} tokens, log-likelihood ${logprob.toFixed(2)}` };
    }
    case "judge": {
      const value = (await ctx.client.judge(check.model, check.criteria, questionOf(c), text)) / 10;
      return { type: "judge", pass: value >= check.min, value, detail: `graded ${value * 10}/10 by ${check.model}` };
    }
  }
}
