/**
 * A llama.cpp model served with parallel sequences: renders chats with the model's own template,
 * and generates with sampling, stop sequences, grammars, token limits and cancellation.
 *
 * Interactive requests get sequences of a context of their own while batch work runs. node-llama-cpp's batch loop
 * holds a context's lock for as long as any of its sequences keeps decoding, and every change to a sequence's
 * tokens waits for that lock, so in one shared context an interactive request waited for a gap in the batch work
 * before its first token. In its own context it waits only for the current decode step.
 */
import {
  LlamaGrammarEvaluationState,
  LlamaText,
  TokenBias,
  type ChatHistoryItem,
  type ChatModelFunctions,
  type ControlledEvaluateInputItem,
  type Llama,
  type LlamaContext,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { likeliest, LOGPROB_FLOOR, logprobOf, logSumExp, utf8Bytes, type ScoredToken, type TokenLogprob } from "../../core/logprobs.js";
import type { ModelDefaults, TemplateOverride } from "../../models/entry.js";
import type { CallSyntax } from "./grammar/schemaGrammar.js";
import { chooseChatTemplate, type TemplateChoice } from "./chatTemplate.js";
import { ContextLengthError } from "./errors.js";
import { SequencePool } from "./sequencePool.js";
import { IncrementalDetokenizer, StopMatcher } from "./textStream.js";

/** A turn of a conversation: text, an assistant's tool calls, or a tool's result for one of them. */
export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: readonly { id: string; name: string; arguments: string }[] }
  | { role: "tool"; content: string; toolCallId: string };

/** Functions offered to the model, rendered by its chat template. */
export type OfferedFunctions = Record<string, { description?: string; params?: Record<string, unknown> }>;

/**
 * Background work evaluates its prompt this many tokens at a time, looking for its abort between steps: one
 * evaluation cannot be interrupted, and a whole prompt at once on a model of realistic size holds a request that
 * arrives meanwhile up by hundreds of milliseconds (interactive prompts go in one batch, which is fastest).
 */
const BACKGROUND_PREFILL_STEP = 16;

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

export interface Sampling {
  temperature: number;
  topP: number;
  topK?: number;
  seed?: number;
  /** OpenAI's additive penalties, applied over the last 64 tokens. */
  presencePenalty?: number;
  frequencyPenalty?: number;
}

export interface GenerateOptions {
  prompt: Token[];
  maxTokens: number;
  sampling: Sampling;
  stop: readonly string[];
  grammar?: LlamaGrammar;
  signal: AbortSignal;
  /** llama.cpp batching: when more tokens wait than a batch holds, higher priorities go first (1..5). */
  evaluationPriority?: 1 | 2 | 3 | 4 | 5;
  /** Receives text as it becomes safe to show (stop sequences never leak), with the log-probabilities of the tokens it came from. */
  onText?: (text: string, logprobs: TokenLogprob[]) => void;
  /** Leave no evaluated state for later requests to reuse (a calibration run is not a conversation). */
  forget?: boolean;
  /** An interactive request: it takes a sequence of the interactive context when one is free. */
  interactive?: boolean;
  /**
   * Log-probabilities of each generated token and of its `top` likeliest alternatives (0-20), from the distribution
   * the sampler drew from (after temperature, top-k, top-p and the grammar). Asked for only when needed: each token
   * then costs a softmax, and alternatives a copy of the candidates.
   */
  logprobs?: { top: number };
  /** Receives each generated token's log-probability as it is sampled (needs `logprobs`). */
  onLogprob?: (entry: TokenLogprob) => void;
  /**
   * A grammar applied once a tool call begins (tool_choice "auto"): until then text is sampled without a grammar,
   * except that the `blocked` tokens (those holding the call syntax's first character other than as its start) are
   * never sampled; a token that starts a call switches to the grammar of the calls' rest (`after` it). A text answer
   * then costs no grammar checks, which over a large vocabulary cost more than the model's own step.
   */
  lazyGrammar?: { blocked: readonly Token[]; after: ReadonlyMap<Token, LlamaGrammar> };
  /**
   * Tokens the answer certainly begins with (a required call's syntax, before the grammar has a choice to make):
   * evaluated with the prompt rather than sampled one by one, and the answer's first tokens.
   */
  forced?: readonly Token[];
}

/** The tokens holding a call syntax's first character: those that begin its prefix (with their text), and the rest. */
export interface CallTokens {
  starts: ReadonlyMap<Token, string>;
  blocked: readonly Token[];
}

export interface GenerateResult {
  text: string;
  finishReason: "stop" | "length";
  promptTokens: number;
  /** Prompt tokens whose evaluated state was reused from an earlier request. */
  reusedTokens: number;
  completionTokens: number;
  /** The stop sequence that ended the answer, when one did. */
  stopSequence?: string;
  /** Of the answer's tokens, when `logprobs` was asked for. */
  logprobs?: TokenLogprob[];
  /** The tokens generated, a stop sequence's included. */
  tokens: Token[];
}

type Metadata = { token: Token; confidence: number; probabilities?: Map<Token, number> };

export interface ChatModelOptions {
  /** A count, or how to choose one once the model is loaded (by measuring it). */
  threads: number | ((model: LlamaModel) => Promise<number>);
  /** Layers offloaded to the GPU, as placement decided (0 on CPU). */
  gpuLayers: number;
  slots: number;
  /** Of the slots, those kept for interactive requests: their sequences live in a context of their own. */
  interactiveSlots?: number;
  /** Tokens per sequence; the model's trained context when absent. */
  contextSize?: number;
  batchSize?: number;
  flashAttention?: boolean;
  prefixReuse: boolean;
  /** A chat template to use instead of the file's own. */
  template?: TemplateOverride;
  /** The system prompt and stop sequences a request that names none gets (an Ollama model's system and params layers). */
  defaults?: Pick<ModelDefaults, "system" | "stop">;
}

/**
 * The sequences of each context a model gets: the shared one, then the interactive one when slots are kept for
 * interactive work (never all of them: the shared context keeps at least one). Placement sizes the same split.
 */
export function contextSequences(slots: number, interactiveSlots = 0): number[] {
  const interactive = Math.min(interactiveSlots, slots - 1);
  return interactive > 0 ? [slots - interactive, interactive] : [slots];
}

export class LlamaChatModel {
  private readonly sequences: SequencePool;
  private readonly callTokensByPrefix = new Map<string, CallTokens>();
  private readonly interactiveSequences: SequencePool | undefined;
  /** Generations of batch or background priority running now (always in the shared context). */
  private backgroundRunning = 0;

  private constructor(
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly interactiveContext: LlamaContext | undefined,
    /** The chat template in use, and where it came from. */
    readonly template: TemplateChoice,
    /** llama.cpp threads this model's context decodes with. */
    readonly threads: number,
    private readonly defaults: Pick<ModelDefaults, "system" | "stop">,
    prefixReuse: boolean,
  ) {
    this.sequences = new SequencePool(context, prefixReuse);
    this.interactiveSequences = interactiveContext && new SequencePool(interactiveContext, prefixReuse);
  }

  static async load(llama: Llama, path: string, options: ChatModelOptions): Promise<LlamaChatModel> {
    const model = await llama.loadModel({ modelPath: path, gpuLayers: options.gpuLayers });
    try {
      const threads = typeof options.threads === "number" ? options.threads : await options.threads(model);
      const [shared, interactive] = contextSequences(options.slots, options.interactiveSlots);
      const contextOf = (sequences: number) =>
        model.createContext({
          contextSize: options.contextSize ?? model.trainContextSize,
          sequences,
          threads,
          batchSize: options.batchSize,
          flashAttention: options.flashAttention && model.flashAttentionSupported,
        });
      const context = await contextOf(shared!);
      const interactiveContext = interactive ? await contextOf(interactive) : undefined;
      const template = chooseChatTemplate({ fileInfo: model.fileInfo, filename: model.filename, tokenizer: model.tokenizer, bosString: model.tokens.bosString, override: options.template });
      return new LlamaChatModel(model, context, interactiveContext, template, threads, options.defaults ?? {}, options.prefixReuse);
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  /** Tokens each parallel sequence can hold. */
  get sequenceContextSize(): number {
    return this.context.contextSize;
  }

  /**
   * The conversation as the model's chat template renders it, the functions offered (if any) included: an assistant's
   * calls become the template's call syntax, each followed by the tool's result for it.
   */
  renderChat(messages: readonly ChatMessage[], functions?: OfferedFunctions): Token[] {
    const system = this.defaults.system;
    const withSystem: readonly ChatMessage[] = system && !messages.some((m) => m.role === "system") ? [{ role: "system", content: system }, ...messages] : messages;
    const results = new Map(withSystem.flatMap((m) => (m.role === "tool" ? [[m.toolCallId, m.content] as const] : [])));
    const history: ChatHistoryItem[] = [];
    for (const m of withSystem) {
      if (m.role === "tool") continue; // rendered after the call it answers
      if (m.role !== "assistant") {
        history.push({ type: m.role, text: m.content });
        continue;
      }
      const calls = (m.toolCalls ?? []).map((c) => ({ type: "functionCall" as const, name: c.name, params: parsed(c.arguments), result: parsed(results.get(c.id) ?? "") }));
      const response = [...(m.content ? [m.content] : []), ...calls];
      const previous = history.at(-1);
      // an answer after tool results continues the turn that called them
      if (previous?.type === "model" && typeof previous.response.at(-1) === "object") previous.response.push(...response);
      else history.push({ type: "model", response });
    }
    history.push({ type: "model", response: [] });
    // the template only describes the schema to the model; the grammar enforces it
    const availableFunctions = functions && Object.keys(functions).length ? (functions as ChatModelFunctions) : undefined;
    const state = this.template.wrapper.generateContextState({ chatHistory: history, availableFunctions });
    return state.contextText.tokenize(this.model.tokenizer);
  }

  /** How this model's chat template writes a tool call (node-llama-cpp's wrappers know each template's syntax). */
  get callSyntax(): CallSyntax {
    const call = this.template.wrapper.settings.functions.call;
    const text = (value: unknown) => LlamaText(value as string).toString();
    return { prefix: text(call.prefix), paramsPrefix: text(call.paramsPrefix), suffix: text(call.suffix), between: "\n" };
  }

  /** The vocabulary's tokens that can begin `prefix`, and those holding its first character otherwise (read once per prefix). */
  callTokens(prefix: string): CallTokens {
    const known = this.callTokensByPrefix.get(prefix);
    if (known) return known;
    const starts = new Map<Token, string>();
    const blocked: Token[] = [];
    for (let t = 0; t < this.vocabularySize; t++) {
      const token = t as Token;
      const piece = this.model.detokenize([token], true);
      if (!piece.includes(prefix[0]!)) continue;
      if (prefix.startsWith(piece)) starts.set(token, piece);
      else blocked.push(token);
    }
    const made = { starts, blocked };
    this.callTokensByPrefix.set(prefix, made);
    return made;
  }

  /** Text as the tokens the model would generate for it mid-answer, or undefined when they do not read back as the text. */
  answerTokens(text: string): Token[] | undefined {
    const tokens = this.model.tokenize(text, false, "trimLeadingSpace");
    return this.model.detokenize(tokens) === text ? tokens : undefined;
  }

  /** Plain-text prompt as the model's tokenizer reads it, with BOS when the model wants one. */
  tokenizeText(text: string): Token[] {
    const tokens = this.model.tokenize(text);
    const bos = this.model.tokens.bos;
    return bos !== null && this.model.fileInfo.metadata.tokenizer?.ggml?.add_bos_token !== false ? [bos, ...tokens] : tokens;
  }

  /** Text as tokens: as the model reads it in a prompt (with BOS when it wants one), or bare; special-token text is parsed. */
  tokenize(text: string, addSpecial: boolean): Token[] {
    return addSpecial ? this.tokenizeText(text) : this.model.tokenize(text, true);
  }

  /** Tokens in the vocabulary (ids are 0 to one less), from the file's tokenizer. */
  get vocabularySize(): number {
    return this.model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  }

  /** Tokens back to text, special tokens as their text; ids outside the vocabulary are the caller's to refuse. */
  detokenize(tokens: readonly Token[]): string {
    return this.model.detokenize(tokens, true);
  }

  /**
   * A rendered conversation whose start was answered here before, with that answer's own tokens put back in place of
   * the answer's text as the template tokenized it: the tokens this context evaluated then, so their state is reused
   * whole (a text tokenized again need not come out as the tokens that were generated). The rendering is returned
   * unchanged unless it starts with the earlier prompt and holds the answer's text exactly there.
   */
  withEvaluatedAnswer(rendered: Token[], earlier: { prompt: readonly number[]; output: readonly number[]; text: string }): Token[] {
    const prompt = earlier.prompt as readonly Token[];
    const output = earlier.output as readonly Token[];
    const { text } = earlier;
    if (rendered.length < prompt.length || prompt.some((t, i) => rendered[i] !== t)) return rendered;
    // stored ids from a file since replaced under the same id may lie outside this vocabulary
    if (output.some((t) => t < 0 || t >= this.vocabularySize)) return rendered;
    if (this.model.detokenize(output) !== text) return rendered; // a stop sequence's tokens were cut from the text
    const retokenized = this.model.tokenize(text, false, "trimLeadingSpace"); // as inside the template, not at the start of a text
    const at = prompt.length;
    if (retokenized.some((t, i) => rendered[at + i] !== t)) return rendered;
    return [...prompt, ...output, ...rendered.slice(at + retokenized.length)];
  }

  /** One token's text (a piece of a word, a byte, or a special token) as it reads after the tokens `before` it. */
  pieceOf(token: Token, before: readonly Token[] = []): string {
    return this.model.detokenize([token], true, before);
  }

  assertFits(prompt: readonly Token[], param: string): void {
    if (prompt.length >= this.sequenceContextSize) throw new ContextLengthError(prompt.length, this.sequenceContextSize, param);
  }

  /** Generates on a free sequence of the context, reusing its longest shared prefix; the caller must hold a slot. */
  async generate(options: GenerateOptions): Promise<GenerateResult> {
    const { prompt, signal, forced = [] } = options;
    signal.throwIfAborted();
    const pool = this.poolFor(options.interactive === true);
    const lease = await pool.acquire([...prompt, ...forced]);
    const background = !options.interactive;
    if (background) this.backgroundRunning++;
    const sequence = lease.sequence;
    let clean = false;
    const detokenizer = new IncrementalDetokenizer(this.model);
    const stops = new StopMatcher(options.stop.length ? options.stop : (this.defaults.stop ?? []));
    const room = this.sequenceContextSize - prompt.length;
    const limit = Math.min(options.maxTokens, room);
    let text = "";
    let completionTokens = 0;
    const generated: Token[] = [];
    let finishReason: GenerateResult["finishReason"] = "length";
    let stopSequence: string | undefined;
    const wanted = options.logprobs;
    const logprobs: TokenLogprob[] = [];
    /** Entries of tokens whose text is still held back (a partial character or stop sequence). */
    let pending: TokenLogprob[] = [];
    const emit = (chunk: string) => {
      if (!chunk) return;
      text += chunk;
      logprobs.push(...pending);
      options.onText?.(chunk, pending);
      pending = [];
    };
    try {
      let grammarState = options.grammar ? new LlamaGrammarEvaluationState({ model: this.model, grammar: options.grammar }) : undefined;
      const lazy = options.lazyGrammar;
      const biases = lazy && { beforeCall: new TokenBias(this.model.tokenizer).set([...lazy.blocked], "never"), inCall: new TokenBias(this.model.tokenizer) };
      const sampling = options.sampling;
      const evaluateOptions = {
        temperature: sampling.temperature,
        topP: sampling.topP,
        topK: sampling.topK,
        seed: sampling.seed,
        // read before each token is sampled: a lazy grammar takes over once a call began
        grammarEvaluationState: lazy ? () => grammarState : grammarState,
        tokenBias: biases ? () => (grammarState ? biases.inCall : biases.beforeCall) : undefined,
        repeatPenalty:
          sampling.presencePenalty || sampling.frequencyPenalty
            ? {
                punishTokens: () => sequence.contextTokens.slice(-64),
                penalty: 1,
                presencePenalty: sampling.presencePenalty ?? 0,
                frequencyPenalty: sampling.frequencyPenalty ?? 0,
              }
            : undefined,
        contextShift: { strategy: "eraseBeginning" },
        evaluationPriority: options.evaluationPriority,
      } as const;
      let rest = lease.rest;
      if (background) {
        // the sequence holds exactly what it evaluated between steps, so an abort here keeps it for reuse
        for (; rest.length > BACKGROUND_PREFILL_STEP; rest = rest.slice(BACKGROUND_PREFILL_STEP)) {
          clean = false;
          await sequence.evaluateWithoutGeneratingNewTokens(rest.slice(0, BACKGROUND_PREFILL_STEP), { evaluationPriority: options.evaluationPriority });
          clean = true;
          signal.throwIfAborted();
        }
        clean = false;
      }
      const tokens = wanted
        ? this.withLogprobs(sequence.evaluateWithMetadata(rest, { confidence: true, probabilities: wanted.top > 0 }, evaluateOptions), wanted.top, (entry) => {
            pending.push(entry);
            options.onLogprob?.(entry);
          })
        : sequence.evaluate(rest, evaluateOptions);
      let eog = true; // the generator ends without a token only at an end-of-generation token
      /** Takes one token of the answer; true when the answer ends with it. */
      const take = (token: Token): boolean => {
        completionTokens++;
        generated.push(token);
        const after = !grammarState && lazy?.after.get(token);
        if (after) grammarState = new LlamaGrammarEvaluationState({ model: this.model, grammar: after });
        const step = stops.push(detokenizer.push(token));
        emit(step.text);
        if (step.stopped) {
          finishReason = "stop";
          stopSequence = step.stop;
          pending = []; // the tokens of the stop sequence, which the answer leaves out
        }
        if (step.stopped || completionTokens >= limit) eog = false;
        return !eog;
      };
      let forcedLeft = forced.length > 0;
      for await (const token of tokens) {
        if (signal.aborted) break;
        if (forcedLeft) {
          // the forced tokens were evaluated with the prompt; their text goes out before the first sampled token's
          forcedLeft = false;
          const sampled = pending;
          pending = [];
          const ended = forced.some(take);
          pending = [...pending, ...sampled];
          if (ended) break;
        }
        if (take(token)) break;
      }
      clean = true; // generation ended between tokens: the sequence holds exactly what it evaluated
      signal.throwIfAborted();
      if (eog) finishReason = "stop";
      emit(stops.flush());
      return { text, finishReason, promptTokens: prompt.length, reusedTokens: lease.reused, completionTokens, stopSequence, ...(wanted && { logprobs }), tokens: generated };
    } finally {
      if (background) this.backgroundRunning--;
      await lease.release(clean && !options.forget);
    }
  }

  /**
   * The log-probability of each of `tokens` given the ones before it (no sampling: the model's own distribution,
   * so the same tokens always score the same), with the `top` likeliest alternatives at each position. The first
   * token has none (null) unless it is BOS, which is then left out; the caller must hold a slot.
   */
  async score(tokens: readonly Token[], options: { top: number; signal: AbortSignal; interactive?: boolean; evaluationPriority?: GenerateOptions["evaluationPriority"] }): Promise<ScoredToken[]> {
    options.signal.throwIfAborted();
    const lease = await this.poolFor(options.interactive === true).acquire(tokens);
    let clean = false;
    try {
      // every position's logits are needed, so nothing reused from the sequence counts
      await lease.sequence.clearHistory();
      const input = tokens.map((token, k): ControlledEvaluateInputItem => (k < tokens.length - 1 ? [token, { generateNext: { logits: true } }] : token));
      const out = await lease.sequence.controlledEvaluate(input, { evaluationPriority: options.evaluationPriority });
      clean = true;
      options.signal.throwIfAborted();
      const bos = this.model.tokens.bos;
      const scored: ScoredToken[] = [];
      for (let k = 0; k < tokens.length; k++) {
        const token = tokens[k]!;
        const piece = this.pieceOf(token, tokens.slice(Math.max(0, k - 8), k));
        if (k === 0) {
          if (token !== bos) scored.push({ token: piece, logprob: null, bytes: utf8Bytes(piece), top: [] });
          continue;
        }
        const logits = out[k - 1]?.next.logits;
        if (!logits) throw new Error(`no logits at position ${k - 1}`);
        const norm = logSumExp(logits.values());
        const choice = (t: Token, logit: number) => {
          const text = this.pieceOf(t, tokens.slice(Math.max(0, k - 8), k));
          return { token: text, logprob: Math.max(logit - norm, LOGPROB_FLOOR), bytes: utf8Bytes(text) };
        };
        scored.push({ ...choice(token, logits.get(token) ?? -Infinity), token: piece, top: likeliest(logits, options.top).map(([t, l]) => choice(t, l)) });
      }
      return scored;
    } finally {
      await lease.release(clean);
    }
  }

  /** The tokens of a metadata evaluation, reporting each one's log-probability entry on the way. */
  private async *withLogprobs(outputs: AsyncGenerator<Metadata>, top: number, report: (entry: TokenLogprob) => void): AsyncGenerator<Token> {
    // pieces read after the answer's previous tokens, as the answer's text is detokenized, so they join up to it
    const recent: Token[] = [];
    const choice = (token: Token, probability: number) => {
      const piece = this.pieceOf(token, recent);
      return { token: piece, logprob: logprobOf(probability), bytes: utf8Bytes(piece) };
    };
    for await (const { token, confidence, probabilities } of outputs) {
      const alternatives = probabilities ? likeliest(probabilities, top).map(([t, p]) => choice(t, p)) : [];
      report({ ...choice(token, confidence), top: alternatives });
      recent.push(token);
      if (recent.length > 8) recent.shift();
      yield token;
    }
  }

  /**
   * Interactive requests go to their own context only while batch or background work decodes in the shared one
   * (whose lock that work holds). Otherwise they share it: one batch for every sequence decodes the weights once
   * per step, where two contexts decode them twice, halving throughput.
   */
  private poolFor(interactive: boolean): SequencePool {
    const own = this.interactiveSequences;
    if (!own?.hasFree) return this.sequences;
    if (interactive && this.backgroundRunning > 0) return own;
    return this.sequences.hasFree ? this.sequences : own;
  }

  async dispose(): Promise<void> {
    await this.interactiveContext?.dispose();
    await this.context.dispose();
    await this.model.dispose();
  }
}
