/**
 * The redaction guard: before text leaves the device for a cloud model it is scanned for e-mail addresses, phone
 * numbers, payment cards, IBANs and secrets (API keys, tokens, private keys, credential assignments), which the
 * policy then lets through, replaces with placeholders, or uses to refuse the request.
 *
 * Every pattern runs in linear time: a match may only begin where a run of its characters begins (a lookbehind
 * says so), and no repeated group can match the same text in two ways, so no prompt can make a scan backtrack
 * without end. Regexes only propose candidates; checksums (Luhn, ISO 13616 mod-97) and shape rules decide.
 */
import { z } from "zod";

export const RedactionPolicy = z.enum(["ALLOW", "ALLOW_WITH_REDACTION", "DENY"]);
export type RedactionPolicy = z.infer<typeof RedactionPolicy>;

export const FINDING_KINDS = ["email", "phone", "card", "iban", "secret"] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
export type FindingCounts = Record<FindingKind, number>;

/** A span [start, end) of the scanned text (UTF-16 offsets). */
export interface Finding {
  kind: FindingKind;
  start: number;
  end: number;
}

export interface Redaction {
  text: string;
  counts: FindingCounts;
  total: number;
}

export interface GuardResult<M> {
  /** False only under DENY when something was found: the request must not leave the device. */
  allowed: boolean;
  /** A redacted copy under ALLOW_WITH_REDACTION, the messages as given otherwise. */
  messages: M[];
  counts: FindingCounts;
  total: number;
}

export const PLACEHOLDERS: Record<FindingKind, string> = {
  email: "[REDACTED_EMAIL]",
  phone: "[REDACTED_PHONE]",
  card: "[REDACTED_CARD]",
  iban: "[REDACTED_IBAN]",
  secret: "[REDACTED_SECRET]",
};

/** Overlapping findings become one span named for the highest kind here: a card is never reported as a phone. */
const PRECEDENCE: Record<FindingKind, number> = { secret: 4, iban: 3, card: 2, email: 1, phone: 0 };

const emptyCounts = (): FindingCounts => ({ email: 0, phone: 0, card: 0, iban: 0, secret: 0 });

const isWordChar = (ch: string | undefined) => ch !== undefined && /\w/.test(ch);

// ---- e-mail ----------------------------------------------------------------------------------------------------

// domain labels cannot contain dots, so the split into labels is unambiguous
const EMAIL = /(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

function findEmails(text: string, out: Finding[]): void {
  for (const m of text.matchAll(EMAIL)) out.push({ kind: "email", start: m.index, end: m.index + m[0].length });
}

// ---- payment cards ---------------------------------------------------------------------------------------------

/** Digit groups joined by single spaces or dashes: the candidates for cards (after "+" comes a phone number). */
const DIGIT_RUN = /(?<![\w.+-])\d+(?:[ -]\d+)*/g;
/** Digits right after "CC00 " continue an IBAN (valid or mistyped), not a card or a phone number. */
const IBAN_HEAD = /[A-Za-z]{2}\d{2} $/;
const continuesIban = (text: string, start: number) => IBAN_HEAD.test(text.slice(Math.max(0, start - 5), start));

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * 13-19 digits written as one block, in fours (the last group shorter), or as 4-6-5 / 4-6-4 (Amex, Diners);
 * issued by a payment network (first digit 2-6, which also rules out ISBN/EAN-13 numbers starting 978/979);
 * passing the Luhn check.
 */
function isCard(lengths: readonly number[], digits: string): boolean {
  if (digits.length < 13 || digits.length > 19 || digits[0]! < "2" || digits[0]! > "6") return false;
  const n = lengths.length;
  const inFours = lengths.every((length, i) => length === 4 || (i === n - 1 && length < 4));
  const amexOrDiners = n === 3 && lengths[0] === 4 && lengths[1] === 6 && (lengths[2] === 5 || lengths[2] === 4);
  return (n === 1 || inFours || amexOrDiners) && luhnValid(digits);
}

function findCards(text: string, out: Finding[]): void {
  for (const run of text.matchAll(DIGIT_RUN)) {
    if (run[0].length < 13 || continuesIban(text, run.index)) continue; // fewer characters than a card has digits
    const groups: { digits: string; start: number }[] = [];
    let at = run.index;
    for (const digits of run[0].split(/[ -]/)) {
      groups.push({ digits, start: at });
      at += digits.length + 1;
    }
    if (isWordChar(text[run.index + run[0].length])) groups.pop(); // the last group runs into a word
    // a card may share its run with other numbers (an expiry, a CVV): take the longest card from each start
    for (let s = 0; s < groups.length; ) {
      // every layout but a single block starts with a group of four and has at most five groups
      const stop = groups[s]!.digits.length === 4 ? Math.min(groups.length, s + 5) : s + 1;
      const lengths: number[] = [];
      let digits = "";
      let found = -1;
      for (let e = s; e < stop && (digits += groups[e]!.digits).length <= 19; e++) {
        lengths.push(groups[e]!.digits.length);
        if (isCard(lengths, digits)) found = e;
      }
      if (found < 0) {
        s++;
        continue;
      }
      const last = groups[found]!;
      out.push({ kind: "card", start: groups[s]!.start, end: last.start + last.digits.length });
      s = found + 1;
    }
  }
}

// ---- IBANs -----------------------------------------------------------------------------------------------------

/** IBAN length by country (ISO 13616 registry), so a match takes exactly the account's characters. */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27,
  MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24,
  SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22,
  VG: 24, XK: 20, YE: 30,
};

/** Country code, two check digits, then exactly the country's number of BBAN characters, single spaces allowed. */
const IBAN = (() => {
  const byLength = new Map<number, string[]>();
  for (const [country, length] of Object.entries(IBAN_LENGTHS)) byLength.set(length, [...(byLength.get(length) ?? []), country]);
  const branches = [...byLength].map(([length, countries]) => `(?:${countries.join("|")})\\d{2}(?: ?[A-Z0-9]){${length - 4}}`);
  return new RegExp(`(?<![A-Za-z0-9])(?:${branches.join("|")})(?![A-Za-z0-9])`, "gi");
})();

/** ISO 13616: the country code and check digits moved to the end, letters as 10-35, the number mod 97 is 1. */
export function ibanValid(iban: string): boolean {
  const compact = iban.replace(/ /g, "").toUpperCase();
  let rest = 0;
  for (const ch of compact.slice(4) + compact.slice(0, 4)) {
    const v = parseInt(ch, 36);
    rest = (rest * (v < 10 ? 10 : 100) + v) % 97;
  }
  return rest === 1;
}

function findIbans(text: string, out: Finding[]): void {
  for (const m of text.matchAll(IBAN)) if (ibanValid(m[0])) out.push({ kind: "iban", start: m.index, end: m.index + m[0].length });
}

// ---- phone numbers ---------------------------------------------------------------------------------------------

/** Digits with single separators (space, dash, dot) and parentheses, optionally after "+"; rules in `isPhone`. */
const PHONE = /(?<![\w+@/-])\+?\(?\d(?:\d|[ .-]\(?(?=\d)|\)[ .-]?(?=\d))*/g;
const ISO_DATE = /^(\d{4})([-./ ])(\d{1,2})\2(\d{1,2})(?!\d)/;
const DMY_DATE = /^(\d{1,2})([-./ ])(\d{1,2})\2(\d{4}(?!\d)|\d{2}$)/;
const ISBN_BEFORE = /ISBN(?:-1[03])?:?\s*$/i;

function isDate(token: string): boolean {
  const iso = ISO_DATE.exec(token);
  if (iso && Number(iso[3]) >= 1 && Number(iso[3]) <= 12 && Number(iso[4]) >= 1 && Number(iso[4]) <= 31) return true;
  const dmy = DMY_DATE.exec(token);
  if (!dmy) return false;
  const [a, b] = [Number(dmy[1]), Number(dmy[3])];
  return a >= 1 && b >= 1 && ((a <= 31 && b <= 12) || (a <= 12 && b <= 31));
}

/**
 * International ("+" or "00", 8-15 digits as E.164 allows) or national: 7-12 digits in groups, where the groups
 * after the first have at least 2 digits (ruling out versions 1.2.3.4 and ISBN check digits) and none more than 8;
 * not a date, decimal (two dot-separated groups), IPv4 address, or thousands-grouped number (1 000 000, 1.000.000).
 * An unseparated national number counts only with its trunk prefix and 10-11 digits (0612345678).
 */
function isPhone(text: string, start: number, end: number): boolean {
  const token = text.slice(start, end);
  const groups = token.match(/\d+/g)!;
  const digits = groups.join("");
  if (digits.length < 7 || /[\w@/]/.test(text[end] ?? "")) return false; // too short, or runs into a word, path or address
  if (continuesIban(text, start) || ISBN_BEFORE.test(text.slice(Math.max(0, start - 12), start))) return false;
  if (token.startsWith("+") || digits.startsWith("00")) {
    const n = digits.length - (token.startsWith("+") ? 0 : 2);
    return n >= 8 && n <= 15;
  }
  if (digits.length > 12) return false;
  if (groups.length === 1) return digits.startsWith("0") && digits.length <= 11 && digits.length >= 10;
  if (groups.slice(1).some((g) => g.length < 2) || groups.some((g) => g.length > 8) || isDate(token)) return false;
  const separators = token.replace(/\d/g, "");
  if (/^\.+$/.test(separators) && (groups.length === 2 || (groups.length === 4 && groups.every((g) => g.length <= 3)))) return false;
  const thousands = /^( +|\.+)$/.test(separators) && groups[0]!.length <= 3 && groups[0]![0] !== "0" && groups.slice(1).every((g) => g.length === 3);
  return !thousands;
}

function findPhones(text: string, out: Finding[]): void {
  for (const m of text.matchAll(PHONE)) {
    const end = m.index + m[0].length;
    if (m[0].length >= 7 && isPhone(text, m.index, end)) out.push({ kind: "phone", start: m.index, end });
  }
}

// ---- secrets ---------------------------------------------------------------------------------------------------

/** Credentials recognised by their issuer's format; the whole match is the secret. */
const TOKEN_PATTERNS: readonly RegExp[] = [
  /(?<![\w-])sk-(?=[\w-]*\d)[\w-]{20,}/g, // OpenAI sk-…, sk-proj-…; Anthropic sk-ant-… (a digit keeps out slugs like sk-learn-…)
  /(?<![A-Za-z0-9])A(?:KIA|SIA)[0-9A-Z]{16}(?![A-Za-z0-9])/g, // AWS access key ids (long-term, temporary)
  /(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})/g, // GitHub tokens
  /(?<![\w-])xox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack
  /(?<![\w-])AIza[\w-]{35}/g, // Google API keys
  /(?<![\w-])eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/g, // JWT: base64url JSON header and payload, signature
  // a PEM private key block, or everything after the header of one cut off before its footer
  /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*)/g,
];

/** "Bearer <token>": the token is the secret; it must hold a digit, so "Bearer authentication" is prose. */
const BEARER = /\bbearer[ \t]+([\w.~+/-]{8,}=*)/dgi;

/**
 * `name = value` / `name: value` (also quoted, as in JSON, YAML, .env): the value is the secret when the name ends in
 * key, secret, token, password… (API_KEY, db.password, apiKey — not max_tokens, not monkey). Values never start
 * with "[", so redacted text stays as it is when scanned again.
 */
const ASSIGNMENT = /(?<![\w.-])([A-Za-z][\w.-]*)["']?[ \t]*([:=])[ \t]*(?!=)(?:"([^"\n]+)"|'([^'\n]+)'|([^\s"'`,;(){}[\]<>]*[^\s"'`,;(){}[\]<>.!?:]))/dg;
const SECRET_NAME = /(?:^|[_.-])(?:api_?key|key|secret|token|password|passwd|pwd|passphrase|credentials?)$/i;
const SECRET_NAME_CAMEL = /[a-z0-9](?:Key|Secret|Token|Password|Passwd|Passphrase)$/;
/** After a colon, prose is likely ("Key: value"): a bare value must look like a credential (a digit, symbol or inner capital). */
const CREDENTIAL_LIKE = /[^A-Za-z]|[a-z][A-Z]/;

function findSecrets(text: string, out: Finding[]): void {
  for (const pattern of TOKEN_PATTERNS) {
    for (const m of text.matchAll(pattern)) out.push({ kind: "secret", start: m.index, end: m.index + m[0].length });
  }
  for (const m of text.matchAll(BEARER)) {
    const [start, end] = m.indices![1]!;
    if (/\d/.test(m[1]!)) out.push({ kind: "secret", start, end });
  }
  for (const m of text.matchAll(ASSIGNMENT)) {
    const name = m[1]!;
    if (!SECRET_NAME.test(name) && !SECRET_NAME_CAMEL.test(name)) continue;
    const bare = m[5];
    if (bare !== undefined && m[2] === ":" && !CREDENTIAL_LIKE.test(bare)) continue;
    const [start, end] = (m.indices![3] ?? m.indices![4] ?? m.indices![5])!;
    out.push({ kind: "secret", start, end });
  }
}

// ---- the guard -------------------------------------------------------------------------------------------------

/** Sensitive spans in `text`, in order and non-overlapping (overlaps merge, named by PRECEDENCE). */
export function scan(text: string): Finding[] {
  const candidates: Finding[] = [];
  for (const find of [findSecrets, findIbans, findCards, findEmails, findPhones]) find(text, candidates);
  candidates.sort((a, b) => a.start - b.start || b.end - a.end);
  const findings: Finding[] = [];
  for (const c of candidates) {
    const last = findings.at(-1);
    if (!last || c.start >= last.end) findings.push(c);
    else {
      last.end = Math.max(last.end, c.end);
      if (PRECEDENCE[c.kind] > PRECEDENCE[last.kind]) last.kind = c.kind;
    }
  }
  return findings;
}

export function redact(text: string): Redaction {
  const findings = scan(text);
  const counts = emptyCounts();
  let out = "";
  let at = 0;
  for (const f of findings) {
    out += text.slice(at, f.start) + PLACEHOLDERS[f.kind];
    at = f.end;
    counts[f.kind]++;
  }
  return { text: out + text.slice(at), counts, total: findings.length };
}

/**
 * The string values of JSON text redacted in place (keys and structure kept, so the arguments still parse); text
 * that is not JSON is redacted whole. Text without findings is returned as it was written.
 */
function redactJson(text: string, add: (r: Redaction) => void): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const r = redact(text);
    add(r);
    return r.text;
  }
  let found = 0;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      const r = redact(v);
      add(r);
      found += r.total;
      return r.text;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const redacted = walk(value);
  return found ? JSON.stringify(redacted) : text;
}

type Guarded = { role: string; content: string; toolCalls?: { arguments: string }[] };

/**
 * Applies a policy to the messages of a request bound for the cloud. Every message is scanned, whatever its role
 * (an assistant turn can echo what the user pasted, a tool result can hold anything), and so are the arguments of
 * the tool calls in the history.
 */
export function guardMessages<M extends Guarded>(messages: readonly M[], policy: RedactionPolicy): GuardResult<M> {
  const counts = emptyCounts();
  let total = 0;
  const add = (r: Redaction) => {
    for (const kind of FINDING_KINDS) counts[kind] += r.counts[kind];
    total += r.total;
  };
  const redacted = messages.map((message) => {
    const before = total;
    const r = redact(message.content);
    add(r);
    const toolCalls = message.toolCalls?.map((call) => ({ ...call, arguments: redactJson(call.arguments, add) }));
    if (total === before) return message;
    return { ...message, content: r.text, ...(toolCalls && { toolCalls }) } as M;
  });
  if (policy === "ALLOW_WITH_REDACTION") return { allowed: true, messages: redacted, counts, total };
  return { allowed: policy === "ALLOW" || total === 0, messages: [...messages], counts, total };
}
