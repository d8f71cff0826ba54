/** Turns generated tokens into text safely: whole UTF-8 characters only, and never past a stop sequence. */
import type { LlamaModel, Token } from "node-llama-cpp";

/** Detokenizes the growing token list and hands out only the new, complete characters. */
export class IncrementalDetokenizer {
  private tokens: Token[] = [];
  private emitted = 0;
  constructor(private readonly model: LlamaModel) {}

  push(token: Token): string {
    this.tokens.push(token);
    const text = this.model.detokenize(this.tokens);
    if (text.endsWith("\uFFFD")) return ""; // a multi-byte character is not finished yet
    const fresh = text.slice(this.emitted);
    this.emitted = text.length;
    return fresh;
  }
}

/**
 * Holds back text that could be the start of a stop sequence, so a client never sees part of one.
 * `push` returns the text that is safe to emit and whether a stop sequence was reached.
 */
export class StopMatcher {
  private pending = "";
  constructor(private readonly stops: readonly string[]) {}

  push(text: string): { text: string; stopped: boolean } {
    this.pending += text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      const out = this.pending.slice(0, cut);
      this.pending = "";
      return { text: out, stopped: true };
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
