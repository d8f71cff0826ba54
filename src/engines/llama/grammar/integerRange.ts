/**
 * GBNF for the decimal integers of a range, digit by digit: no leading zeros, no "-0", no exponent, so what the
 * grammar lets a model write is exactly an integer inside the bounds.
 */

/** Most digits an unbounded integer may have: 15 keeps every value a safe JavaScript integer. */
export const MAX_DIGITS = 15;
export const MAX_MAGNITUDE = 10 ** MAX_DIGITS - 1;

const group = (alternatives: string) => (alternatives.includes("|") ? `(${alternatives})` : alternatives);

/** Digit strings of equal length from `low` to `high` (leading zeros allowed: these are suffixes). */
function sameLength(low: string, high: string): string {
  if (low === high) return `"${low}"`;
  if (low.length === 1) return `[${low}-${high}]`;
  const rest = low.length - 1;
  if (low[0] === high[0]) return `"${low[0]}" ${group(sameLength(low.slice(1), high.slice(1)))}`;
  const lowFloor = /^0*$/.test(low.slice(1));
  const highCeiling = /^9*$/.test(high.slice(1));
  const from = Number(low[0]) + (lowFloor ? 0 : 1);
  const to = Number(high[0]) - (highCeiling ? 0 : 1);
  const parts: string[] = [];
  if (!lowFloor) parts.push(`"${low[0]}" ${group(sameLength(low.slice(1), "9".repeat(rest)))}`);
  if (from <= to) parts.push(`${from === to ? `"${from}"` : `[${from}-${to}]`} [0-9]{${rest}}`);
  if (!highCeiling) parts.push(`"${high[0]}" ${group(sameLength("0".repeat(rest), high.slice(1)))}`);
  return parts.join(" | ");
}

/** The naturals from `low` to `high` inclusive (0 <= low <= high <= MAX_MAGNITUDE), written without leading zeros. */
export function naturals(low: number, high: number): string {
  const parts: string[] = [];
  let top = String(high).length;
  if (high === MAX_MAGNITUDE && String(low).length < MAX_DIGITS) {
    // every longer number up to the limit: one rule instead of one per length
    top = String(low).length;
    parts.push(`[1-9] [0-9]{${top},${MAX_DIGITS - 1}}`);
  }
  for (let digits = String(low).length; digits <= top; digits++) {
    const from = Math.max(low, digits === 1 ? 0 : 10 ** (digits - 1));
    const to = Math.min(high, 10 ** digits - 1);
    if (from <= to) parts.push(sameLength(String(from), String(to)));
  }
  return parts.join(" | ");
}

/** Integers in [low, high]; an absent bound is as far as MAX_DIGITS digits reach. Empty when the range is. */
export function integers(low: number | undefined, high: number | undefined): string {
  const lo = low ?? -MAX_MAGNITUDE;
  const hi = high ?? MAX_MAGNITUDE;
  const parts: string[] = [];
  // negatives are "-" and a magnitude of at least 1
  const fewest = hi < 0 ? -hi : 1;
  if (lo < 0 && fewest <= -lo) parts.push(`"-" ${group(naturals(fewest, -lo))}`);
  if (hi >= 0 && Math.max(lo, 0) <= hi) parts.push(naturals(Math.max(lo, 0), hi));
  return parts.join(" | ");
}
