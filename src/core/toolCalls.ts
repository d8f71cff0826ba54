/**
 * Reads tool calls out of generated text as it streams. The grammar guarantees the shape — text that never holds
 * the call syntax's first character, then calls `prefix name paramsPrefix {arguments} suffix` joined by `between` —
 * so this only has to split it: text as content, each call's name once known, and its arguments in fragments as
 * they are generated.
 */
import type { CallSyntax } from "../engines/llama/grammar/schemaGrammar.js";
import { newId } from "./localAnswer.js";
import type { ToolCall } from "./request.js";

export type CallPiece = { type: "text"; text: string } | { type: "call"; index: number; id: string; name: string } | { type: "arguments"; index: number; text: string };

export class CallStream {
  private mode: "text" | "head" | "arguments" | "tail" = "text";
  private buffer = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  readonly calls: ToolCall[] = [];

  constructor(
    private readonly syntax: CallSyntax,
    private readonly names: readonly string[],
  ) {}

  push(text: string): CallPiece[] {
    const out: CallPiece[] = [];
    for (const ch of text) this.step(ch, out);
    // consecutive argument characters go out as one fragment
    return out.reduce<CallPiece[]>((merged, p) => {
      const last = merged.at(-1);
      if (last && last.type === p.type && p.type !== "call" && (last as { index?: number }).index === (p as { index?: number }).index) (last as { text: string }).text += (p as { text: string }).text;
      else merged.push({ ...p });
      return merged;
    }, []);
  }

  /** Whether the last call was generated to its end (an answer cut by max_tokens may stop inside one). */
  get complete(): boolean {
    return this.mode === "text" || (this.mode === "tail" && this.buffer.startsWith(this.syntax.suffix));
  }

  private step(ch: string, out: CallPiece[]): void {
    const { prefix, paramsPrefix, suffix, between } = this.syntax;
    switch (this.mode) {
      case "text":
        if (ch !== prefix[0]) return void out.push({ type: "text", text: ch });
        this.mode = "head";
        this.buffer = ch;
        return;
      case "head": {
        this.buffer += ch;
        const head = this.buffer.slice(prefix.length);
        const name = this.names.find((n) => head === n + paramsPrefix);
        if (!name) return;
        const call = { id: newId("call", "_"), name, arguments: "" };
        this.calls.push(call);
        out.push({ type: "call", index: this.calls.length - 1, id: call.id, name });
        this.mode = "arguments";
        this.buffer = "";
        return;
      }
      case "arguments": {
        const call = this.calls.at(-1)!;
        call.arguments += ch;
        out.push({ type: "arguments", index: this.calls.length - 1, text: ch });
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (ch === "\\") this.escaped = true;
          else if (ch === '"') this.inString = false;
        } else if (ch === '"') this.inString = true;
        else if (ch === "{" || ch === "[") this.depth++;
        else if ((ch === "}" || ch === "]") && --this.depth === 0) {
          this.mode = "tail";
          this.buffer = "";
        }
        return;
      }
      case "tail":
        // the suffix, then either the end or `between` and the next call
        this.buffer += ch;
        if (this.buffer === suffix + between) {
          this.mode = "head";
          this.buffer = "";
        }
        return;
    }
  }
}
