/** Turns generated tokens into text safely: whole UTF-8 characters only, and never past a stop sequence. */
import type { LlamaModel, Token } from "node-llama-cpp";

/** Longest run of byte tokens one UTF-8 character needs. */
const MAX_CHARACTER_TOKENS = 4;
/** Preceding tokens handed to the detokenizer so spacing comes out as in a full detokenization. */
const CONTEXT_TOKENS = 8;

/**
 * Detokenizes token by token in constant time per token: the new text is what the new tokens add to the
 * detokenization of a few preceding ones (so spacing rules see the same neighbours as in the whole text), and
 * byte tokens are held until they complete a UTF-8 character.
 */
export class IncrementalDetokenizer {
  private context: Token[] = [];
  private pending: Token[] = [];
  constructor(private readonly model: LlamaModel) {}

  push(token: Token): string {
    this.pending.push(token);
    const before = this.model.detokenize(this.context);
    const text = this.model.detokenize([...this.context, ...this.pending]).slice(before.length);
    if (text.endsWith("\uFFFD") && this.pending.length < MAX_CHARACTER_TOKENS) return "";
    this.context = [...this.context, ...this.pending].slice(-CONTEXT_TOKENS);
    this.pending = [];
    return text;
  }
}

/**
 * Holds back text that could be the start of a stop sequence, so a client never sees part of one.
 * `push` returns the text that is safe to emit and the stop sequence reached, if one was.
 */
export class StopMatcher {
  private pending = "";
  constructor(private readonly stops: readonly string[]) {}

  push(text: string): { text: string; stopped: boolean; stop?: string } {
    this.pending += text;
    let cut = -1;
    let matched: string | undefined;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) {
        cut = at;
        matched = stop;
      }
    }
    if (cut !== -1) {
      const out = this.pending.slice(0, cut);
      this.pending = "";
      return { text: out, stopped: true, stop: matched };
    }
    const hold = Math.max(0, ...this.stops.map((s) => this.partialSuffix(s)));
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { text: out, stopped: false };
  }

  /** Text held back when the generation ends for another reason. */
  flush(): string {
    const out = this.pending;
    this.pending = "";
    return out;
  }

  /** Length of the longest suffix of the pending text that is a proper prefix of `stop`. */
  private partialSuffix(stop: string): number {
    for (let n = Math.min(stop.length - 1, this.pending.length); n > 0; n--) {
      if (this.pending.endsWith(stop.slice(0, n))) return n;
    }
    return 0;
  }
}
