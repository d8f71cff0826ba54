/**
 * An evaluation suite: JSONL, one case per line. A case is a conversation (`messages`) or a plain text (`prompt`),
 * with what is asked of the answer (`checks`). Each line is checked by zod; a bad one is refused naming its line.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ChatMessage, FunctionTool, ResponseFormat, ToolChoice } from "../http/openai/schemas.js";

const JsonSchema = z.record(z.string(), z.unknown());
const Probability = z.number().min(0).max(1);

export const Check = z.discriminatedUnion("type", [
  /** The answer is this text (surrounding white space aside). */
  z.object({ type: z.literal("exact"), value: z.string() }),
  z.object({ type: z.literal("contains"), value: z.string().min(1), ignore_case: z.boolean().default(false) }),
  z.object({ type: z.literal("regex"), pattern: z.string().min(1), flags: z.string().regex(/^[imsu]*$/, "flags may be i, m, s and u").default("") }),
  /** The answer is JSON valid under this schema. */
  z.object({ type: z.literal("json_schema"), schema: JsonSchema }),
  /** The answer calls this tool, with arguments valid under `arguments` when given. */
  z.object({ type: z.literal("tool_call"), name: z.string().min(1), arguments: JsonSchema.optional() }),
  /** Cosine similarity of the answer's and the reference's embeddings (the embedding model) of at least `min`. */
  z.object({ type: z.literal("similarity"), reference: z.string().min(1), min: Probability }),
  /**
   * The model's own likelihood of a reference continuation of the case's prompt (or `context`), nothing sampled:
   * the mean probability per token, exp(mean log-probability), of at least `min` (0: only measured).
   */
  z.object({ type: z.literal("loglik"), context: z.string().optional(), continuation: z.string().min(1), min: Probability.default(0) }),
  /** A model (cloud or local) grades the answer from 0 to 10 against `criteria`; passes at `min` × 10 or more. */
  z.object({ type: z.literal("judge"), model: z.string().min(1), criteria: z.string().min(1), min: Probability.default(0.5) }),
]);
export type Check = z.infer<typeof Check>;
export type CheckType = Check["type"];

export const EvalCase = z
  .object({
    id: z.string().min(1).optional(),
    messages: z.array(ChatMessage).min(1).optional(),
    prompt: z.string().min(1).optional(),
    max_tokens: z.number().int().min(1).default(64),
    /** Greedy by default, so a run is repeatable. */
    temperature: z.number().min(0).max(2).default(0),
    tools: z.array(FunctionTool).optional(),
    tool_choice: ToolChoice.optional(),
    response_format: ResponseFormat.optional(),
    checks: z.array(Check).min(1, "a case needs at least one check"),
  })
  .superRefine((c, ctx) => {
    if (!c.messages === !c.prompt) ctx.addIssue({ code: "custom", path: ["messages"], message: "a case has either messages or a prompt" });
    c.checks.forEach((check, i) => {
      if (check.type === "loglik" && check.context === undefined && c.prompt === undefined) {
        ctx.addIssue({ code: "custom", path: ["checks", i, "context"], message: "a loglik check needs a context, or a case with a prompt" });
      }
      if (check.type === "regex") {
        try {
          new RegExp(check.pattern, check.flags);
        } catch (error) {
          ctx.addIssue({ code: "custom", path: ["checks", i, "pattern"], message: (error as Error).message });
        }
      }
    });
  });
export type EvalCase = z.infer<typeof EvalCase> & { id: string };

export class SuiteError extends Error {
  override name = "SuiteError";
}

/** The cases of a JSONL text; blank lines are skipped, and a case without an id is named by its line. */
export function parseSuite(text: string, source: string): EvalCase[] {
  const cases: EvalCase[] = [];
  const ids = new Set<string>();
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${source}:${i + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw new SuiteError(`${where}: not JSON (${(error as Error).message})`);
    }
    const parsed = EvalCase.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new SuiteError(`${where}: ${issue.path.join(".") || "the case"}: ${issue.message}`);
    }
    const id = parsed.data.id ?? `line ${i + 1}`;
    if (ids.has(id)) throw new SuiteError(`${where}: the id "${id}" is used twice`);
    ids.add(id);
    cases.push({ ...parsed.data, id });
  });
  if (!cases.length) throw new SuiteError(`${source}: the suite has no cases`);
  return cases;
}

export interface Suite {
  path: string;
  cases: EvalCase[];
  /** Of the file's text: runs of different suites (or of a suite since edited) are never compared. */
  sha256: string;
}

export async function loadSuite(path: string): Promise<Suite> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SuiteError(code === "ENOENT" ? `suite not found: ${path}` : `cannot read the suite ${path}: ${code}`);
  }
  return { path, cases: parseSuite(text, path), sha256: createHash("sha256").update(text).digest("hex") };
}
