/**
 * How hard a request looks, in [0, 1], so the router can send complex prompts to a cloud model. Two opinions:
 * cheap text features of the user's turns (length, questions, code, math, list requests, reasoning and constraint
 * words) weighed by a squashed sum, and, when labelled examples and an embedder are given, the labels of the
 * examples nearest to the request. The score is their mean, or the feature score alone.
 */
import { z } from "zod";

export const DifficultyLabel = z.enum(["simple", "complex"]);
export type DifficultyLabel = z.infer<typeof DifficultyLabel>;
export const DifficultyExample = z.object({ text: z.string().min(1), label: DifficultyLabel });
export type DifficultyExample = z.infer<typeof DifficultyExample>;

export type Embed = (texts: string[]) => Promise<Float32Array[]>;

export interface DifficultyEstimatorOptions {
  examples: DifficultyExample[];
  /** Needed for the example opinion; the examples are embedded once, on first use. */
  embed?: Embed;
  /** Nearest examples that vote (default 5). */
  k?: number;
}

interface Turn {
  role: string;
  content: string;
}

/** Counts over the user's turns only: system prompts and assistant replies are not what is being asked. */
export interface Features {
  chars: number;
  words: number;
  userTurns: number;
  /** Runs of question marks. */
  questions: number;
  /** Fenced blocks (``` or ~~~). */
  codeBlocks: number;
  /** `inline code` spans. */
  inlineCode: number;
  /** LaTeX commands, $…$ spans, math symbols and math vocabulary (integral, theorem, matrix…). */
  math: number;
  /** Requests for lists (list, enumerate, "five ways"…) and numbered or bulleted lines in the prompt. */
  listRequests: number;
  /** Reasoning words: explain, why, prove, derive, compare, analyse, step by step, design, trade-off… */
  reasoning: number;
  /** Constraint words: must, exactly, at least, at most, no more than, never, only, without… */
  constraints: number;
}

export interface Estimate {
  score: number;
  featureScore: number;
  /** Similarity-weighted share of "complex" among the k nearest examples (absent when none is similar at all). */
  exampleScore?: number;
  nearest?: { label: DifficultyLabel; similarity: number }[];
}

/**
 * The feature score is logistic(bias + Σ weight × min(signal, cap)). Signals are the feature counts, except
 * length, log2(1 + words / 32), so every doubling of a long prompt adds the same, and follow-ups, the user turns
 * after the first. Caps keep one repeated word from deciding alone. Set so a greeting scores about 0.05, a
 * one-line factual question about 0.1, and a long multi-part reasoning or design request above 0.9.
 */
export const FEATURE_WEIGHTS = {
  bias: -3,
  signals: {
    length: { weight: 0.9, cap: 5 },
    followUps: { weight: 0.25, cap: 4 },
    questions: { weight: 0.35, cap: 4 },
    codeBlocks: { weight: 0.8, cap: 3 },
    inlineCode: { weight: 0.2, cap: 5 },
    math: { weight: 0.5, cap: 6 },
    listRequests: { weight: 0.4, cap: 4 },
    reasoning: { weight: 0.7, cap: 6 },
    constraints: { weight: 0.3, cap: 5 },
  },
} as const;

type Signal = keyof typeof FEATURE_WEIGHTS.signals;

const WORD = /\S+/g;
const QUESTION = /\?+/g;
const FENCE = /^[ \t]*(?:```|~~~)/gm;
const INLINE_CODE = /(?<!`)`[^`\n]+`(?!`)/g;
const MATH =
  /\\(?:frac|sum|int|sqrt|lim|prod|partial|nabla|infty|cdot|times|leq?|geq?|neq|forall|exists|alpha|beta|gamma|delta|epsilon|theta|lambda|sigma|mu|pi|begin)\b|\$[^$\s](?:[^$\n]*[^$\s])?\$|[∑∫√∞≤≥≠±∂∇∈∀∃⇒⇔∝]|\b(?:integrals?|derivatives?|eigen\w*|matri(?:x|ces)|theorems?|lemmas?|equations?|polynomials?|probabilit(?:y|ies)|logarithms?|modulo)\b/gi;
const LIST_REQUEST =
  /\b(?:list|enumerate|itemi[sz]e|bullet(?:ed)? (?:points?|list)|outline|(?:\d+|two|three|four|five|six|seven|eight|nine|ten) (?:ways|examples|reasons|steps|ideas|options|tips|points|alternatives|approaches))\b|^[ \t]*(?:\d+[.)]|[-*•])[ \t]/gim;
const REASONING =
  /\b(?:explain\w*|why|prove|proof|derive|derivation|compar(?:e|es|ing|ison)|contrast|analy[sz](?:e|es|is|ing)|step[- ]by[- ]step|design|architect\w*|trade-?offs?|evaluat\w+|justify|optimi[sz]\w*|pros and cons|implications?|reasoning|debug\w*|critique|assess)\b/gi;
const CONSTRAINT = /\b(?:must|exactly|at (?:least|most)|no (?:more|less|fewer) than|ensure|never|without|only|strictly|required?|constraints?|avoid)\b/gi;

const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

export function extractFeatures(messages: readonly Turn[]): Features {
  const user = messages.filter((m) => m.role === "user");
  const text = user.map((m) => m.content).join("\n");
  return {
    chars: text.length,
    words: count(text, WORD),
    userTurns: user.length,
    questions: count(text, QUESTION),
    codeBlocks: Math.ceil(count(text, FENCE) / 2),
    inlineCode: count(text, INLINE_CODE),
    math: count(text, MATH),
    listRequests: count(text, LIST_REQUEST),
    reasoning: count(text, REASONING),
    constraints: count(text, CONSTRAINT),
  };
}

export function featureScore(f: Features): number {
  const signals: Record<Signal, number> = {
    length: Math.log2(1 + f.words / 32),
    followUps: Math.max(0, f.userTurns - 1),
    questions: f.questions,
    codeBlocks: f.codeBlocks,
    inlineCode: f.inlineCode,
    math: f.math,
    listRequests: f.listRequests,
    reasoning: f.reasoning,
    constraints: f.constraints,
  };
  let z: number = FEATURE_WEIGHTS.bias;
  for (const [signal, { weight, cap }] of Object.entries(FEATURE_WEIGHTS.signals)) z += weight * Math.min(signals[signal as Signal], cap);
  return 1 / (1 + Math.exp(-z));
}

interface Embedded {
  vector: Float32Array;
  norm: number;
}

async function embedAll(embed: Embed, texts: string[]): Promise<Embedded[]> {
  const vectors = await embed(texts);
  if (vectors.length !== texts.length) throw new Error(`the embedder returned ${vectors.length} vectors for ${texts.length} texts`);
  return vectors.map((vector) => {
    let squares = 0;
    for (const x of vector) squares += x * x;
    return { vector, norm: Math.sqrt(squares) };
  });
}

function cosine(a: Embedded, b: Embedded): number {
  if (a.vector.length !== b.vector.length) throw new Error(`embeddings differ in dimensions: ${a.vector.length} and ${b.vector.length}`);
  if (a.norm === 0 || b.norm === 0) return 0;
  let dot = 0;
  for (let i = 0; i < a.vector.length; i++) dot += a.vector[i]! * b.vector[i]!;
  return dot / (a.norm * b.norm);
}

export class DifficultyEstimator {
  private readonly examples: DifficultyExample[];
  private readonly embed: Embed | undefined;
  private readonly k: number;
  /** The examples' embeddings, computed by the first estimate and shared by every later (or concurrent) one. */
  private embedded: Promise<Embedded[]> | undefined;

  constructor(options: DifficultyEstimatorOptions) {
    this.examples = z.array(DifficultyExample).parse(options.examples);
    this.embed = options.embed;
    this.k = options.k ?? 5;
    if (!Number.isInteger(this.k) || this.k < 1) throw new RangeError(`k must be a positive integer, got ${this.k}`);
  }

  features(messages: readonly Turn[]): Features {
    return extractFeatures(messages);
  }

  /** The feature score alone: synchronous, no embedding. */
  featuresOnly(messages: readonly Turn[]): number {
    return featureScore(extractFeatures(messages));
  }

  /**
   * Both opinions. The request is embedded as its last user turn, since examples are single prompts. Rejects when
   * the embedder does (a later call embeds the examples again); `featuresOnly` is the fallback.
   */
  async estimate(messages: readonly Turn[]): Promise<Estimate> {
    const featureScore = this.featuresOnly(messages);
    const query = messages.findLast((m) => m.role === "user")?.content;
    if (!this.embed || this.examples.length === 0 || !query) return { score: featureScore, featureScore };
    const [examples, [request]] = await Promise.all([this.exampleEmbeddings(this.embed), embedAll(this.embed, [query])]);
    const nearest = examples
      .map((e, i) => ({ label: this.examples[i]!.label, similarity: cosine(request!, e) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, this.k);
    let weight = 0;
    let complex = 0;
    for (const n of nearest) {
      const w = Math.max(0, n.similarity);
      weight += w;
      if (n.label === "complex") complex += w;
    }
    if (weight === 0) return { score: featureScore, featureScore, nearest };
    const exampleScore = complex / weight;
    return { score: (featureScore + exampleScore) / 2, featureScore, exampleScore, nearest };
  }

  private exampleEmbeddings(embed: Embed): Promise<Embedded[]> {
    this.embedded ??= embedAll(
      embed,
      this.examples.map((e) => e.text),
    ).catch((error: unknown) => {
      this.embedded = undefined;
      throw error;
    });
    return this.embedded;
  }
}
