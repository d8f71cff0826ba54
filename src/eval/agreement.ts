/**
 * How far a device's answer agrees with a reference's: the same tool calls (names and arguments as JSON values,
 * in any order), the same JSON value for a JSON answer, else the cosine of the two texts' embeddings.
 */
import type { ToolCall } from "../core/request.js";
import { cosine } from "./checks.js";
import type { AgreementKind } from "./onlineSamples.js";

export interface Answered {
  text: string;
  toolCalls?: readonly Pick<ToolCall, "name" | "arguments">[];
}

/** A JSON value with its objects' keys sorted, so equal values print equal; undefined when the text is not JSON. */
function canonical(text: string): string | undefined {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sorted(x)])) : v;
  try {
    return JSON.stringify(sorted(JSON.parse(text)));
  } catch {
    return undefined;
  }
}

const callsOf = (a: Answered) => (a.toolCalls ?? []).map((c) => `${c.name}(${canonical(c.arguments) ?? c.arguments})`).sort();

export function kindOf(local: Answered, reference: Answered, json: boolean): AgreementKind {
  if (local.toolCalls?.length || reference.toolCalls?.length) return "tool_calls";
  return json ? "json" : "text";
}

export async function agreementOf(local: Answered, reference: Answered, kind: AgreementKind, embed: (texts: string[]) => Promise<ArrayLike<number>[]>): Promise<number> {
  if (kind === "tool_calls") return JSON.stringify(callsOf(local)) === JSON.stringify(callsOf(reference)) ? 1 : 0;
  if (kind === "json") {
    const a = canonical(local.text);
    return a !== undefined && a === canonical(reference.text) ? 1 : 0;
  }
  if (local.text.trim() === reference.text.trim()) return 1;
  if (!local.text.trim() || !reference.text.trim()) return 0;
  const [a, b] = await embed([local.text, reference.text]);
  return Math.max(0, cosine(a!, b!));
}
