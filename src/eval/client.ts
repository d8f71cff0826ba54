/**
 * What an evaluation asks of a daemon, over its HTTP API as any client would: answers (chat or text completions,
 * tools and output formats included), embeddings, a scored text (completions with echo and max_tokens 0) and a
 * judge's grade. The answers measured are the ones users get, through the same router, templates and grammars.
 */
import type { EvalCase } from "./suite.js";

export interface CaseAnswer {
  text: string;
  toolCalls: { name: string; arguments: string }[];
  latencyMs: number;
  promptTokens: number;
  completionTokens: number;
}

/** The daemon refused the request (a 4xx and its error message); the case fails with it, the run goes on. */
export class RefusedError extends Error {
  override name = "RefusedError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`${status}: ${message}`);
  }
}

export class EvalClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey?: string,
    /** The scheduling class of every request (a gate runs as batch work beside real traffic). */
    private readonly priority?: "interactive" | "background" | "batch",
    /** Sent with every request (online evaluation's reference keeps itself on the device with x-edged-privacy). */
    private readonly headers: Record<string, string> = {},
  ) {}

  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<Record<string, any>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: "POST",
      signal,
      headers: { "content-type": "application/json", ...this.headers, ...(this.apiKey && { authorization: `Bearer ${this.apiKey}` }) },
      body: JSON.stringify(this.priority ? { ...(body as object), priority: this.priority } : body),
    });
    const text = await res.text();
    let json: Record<string, any> = {};
    try {
      json = JSON.parse(text) as Record<string, any>;
    } catch {
      // answered below with the status
    }
    const message = json.error?.message ?? (text.slice(0, 200) || res.statusText);
    // a server error is the daemon's, not the case's: the run stops there
    if (res.status >= 500) throw new Error(`${this.baseUrl}${path} answered ${res.status}: ${message}`);
    if (!res.ok) throw new RefusedError(res.status, message);
    return json;
  }

  async answer(model: string, c: EvalCase, signal?: AbortSignal): Promise<CaseAnswer> {
    const started = performance.now();
    const common = { model, max_tokens: c.max_tokens, temperature: c.temperature };
    if (c.prompt !== undefined && !c.tools && !c.response_format) {
      const r = await this.post("/v1/completions", { ...common, prompt: c.prompt }, signal);
      return { text: r.choices?.[0]?.text ?? "", toolCalls: [], latencyMs: performance.now() - started, promptTokens: r.usage?.prompt_tokens ?? 0, completionTokens: r.usage?.completion_tokens ?? 0 };
    }
    const messages = c.messages ?? [{ role: "user", content: c.prompt }];
    const r = await this.post("/v1/chat/completions", { ...common, messages, tools: c.tools, tool_choice: c.tool_choice, response_format: c.response_format }, signal);
    const message = r.choices?.[0]?.message ?? {};
    const toolCalls = ((message.tool_calls ?? []) as { function: { name: string; arguments: string } }[]).map((t) => ({ name: t.function.name, arguments: t.function.arguments }));
    return { text: message.content ?? "", toolCalls, latencyMs: performance.now() - started, promptTokens: r.usage?.prompt_tokens ?? 0, completionTokens: r.usage?.completion_tokens ?? 0 };
  }

  async embed(model: string, texts: string[]): Promise<number[][]> {
    const r = await this.post("/v1/embeddings", { model, input: texts });
    return (r.data as { embedding: number[] }[]).map((d) => d.embedding);
  }

  /**
   * The log-probability of `continuation` after `context`, summed over its tokens, and their count. The whole
   * text is scored once; the continuation's tokens are those ending past where it begins, counted from the end
   * (a tokenizer may add a leading space to the text's first piece, never to its last).
   */
  async loglik(model: string, context: string, continuation: string): Promise<{ logprob: number; tokens: number }> {
    const r = await this.post("/v1/completions", { model, prompt: context + continuation, max_tokens: 0, echo: true, logprobs: 0 });
    const lp = r.choices?.[0]?.logprobs as { tokens: string[]; token_logprobs: (number | null)[] } | undefined;
    if (!lp) throw new Error("the scored text came back without log-probabilities");
    let end = lp.tokens.reduce((n, t) => n + t.length, 0);
    const boundary = end - continuation.length;
    let logprob = 0;
    let tokens = 0;
    for (let i = lp.tokens.length - 1; i >= 0 && end > boundary; i--) {
      logprob += lp.token_logprobs[i] ?? 0;
      tokens++;
      end -= lp.tokens[i]!.length;
    }
    return { logprob, tokens };
  }

  /** A 0-10 grade from `model` of `answer` to `question` against `criteria`, as JSON under a schema. */
  async judge(model: string, criteria: string, question: string, answer: string): Promise<number> {
    const r = await this.post("/v1/chat/completions", {
      model,
      temperature: 0,
      max_tokens: 64,
      messages: [
        { role: "system", content: 'You grade answers. Reply with JSON {"score": N}, N an integer from 0 (fails the criteria) to 10 (meets them fully).' },
        { role: "user", content: `Criteria: ${criteria}\n\nQuestion: ${question}\n\nAnswer: ${answer}` },
      ],
      response_format: { type: "json_schema", json_schema: { name: "grade", schema: { type: "object", properties: { score: { type: "integer", minimum: 0, maximum: 10 } }, required: ["score"] } } },
    });
    const content: string = r.choices?.[0]?.message?.content ?? "";
    // the grade is read even from an object cut short after it (a small judge may pad its JSON with white space)
    const score = Number(/"score"\s*:\s*(\d+)/.exec(content)?.[1]);
    if (!(score >= 0 && score <= 10)) throw new RefusedError(422, `the judge ${model} answered no grade: ${content.slice(0, 120)}`);
    return score;
  }
}
