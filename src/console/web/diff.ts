/** A word-level diff of two texts (longest common subsequence), for comparing versions of a memory item. */
export interface DiffPart {
  kind: "same" | "added" | "removed";
  text: string;
}

/** Past this many words on a side the diff is not computed (its table grows with the product). */
export const DIFF_LIMIT = 3000;

export function diffWords(before: string, after: string): DiffPart[] | undefined {
  const a = before.split(/(\s+)/).filter(Boolean);
  const b = after.split(/(\s+)/).filter(Boolean);
  if (a.length > DIFF_LIMIT || b.length > DIFF_LIMIT) return undefined;
  // lengths[i * (m + 1) + j]: the longest common subsequence of a[i..] and b[j..]
  const m = b.length;
  const lengths = new Uint16Array((a.length + 1) * (m + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lengths[i * (m + 1) + j] = a[i] === b[j] ? lengths[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lengths[(i + 1) * (m + 1) + j]!, lengths[i * (m + 1) + j + 1]!);
  const parts: DiffPart[] = [];
  const push = (kind: DiffPart["kind"], text: string) => {
    const last = parts.at(-1);
    if (last?.kind === kind) last.text += text;
    else parts.push({ kind, text });
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < m) {
    if (a[i] === b[j]) {
      push("same", a[i]!);
      i++;
      j++;
    } else if (lengths[(i + 1) * (m + 1) + j]! >= lengths[i * (m + 1) + j + 1]!) push("removed", a[i++]!);
    else push("added", b[j++]!);
  }
  while (i < a.length) push("removed", a[i++]!);
  while (j < m) push("added", b[j++]!);
  return parts;
}
