/**
 * Cloud token budgets per API key: tokens spent on cloud models are counted in hourly buckets in SQLite, and a
 * request is refused when it would take its key past the hourly or the daily limit. The hour is the current UTC
 * clock hour; the day is rolling, the current hour and the 23 before it (a calendar day would let a key spend twice
 * its limit across midnight). Keys are stored only as the SHA-256 of the bearer key. The limits are soft: a check
 * counts what was recorded, not requests still in flight. Local models are never charged; the caller decides.
 * Tokens a full disk keeps from being written are held in memory, counted all the same, and written with the next
 * record that gets through (a restart before then forgets them).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/open.js";
import { isStorageFull } from "../db/storage.js";

/** Tokens a key may spend on cloud models; an absent limit is no limit. */
export const TokenBudgetLimits = z.object({
  perHour: z.number().int().positive().optional(),
  perDay: z.number().int().positive().optional(),
});
export type TokenBudgetLimits = z.infer<typeof TokenBudgetLimits>;

export interface TokenBudgetOptions extends TokenBudgetLimits {
  now?: () => number;
}

export type BudgetWindow = "hour" | "day";
export interface BudgetRefusal {
  ok: false;
  window: BudgetWindow;
  limit: number;
  used: number;
  retryAfterMs: number;
}
export type BudgetCheck = { ok: true } | BudgetRefusal;
export interface BudgetUsage {
  hour: number;
  day: number;
}

/** The key id of requests without a bearer key: they share one budget. */
export const ANONYMOUS_KEY_ID = "anonymous";

const HOUR_MS = 3_600_000;
const DAY_HOURS = 24;

interface Bucket {
  hour: number;
  tokens: number;
}

function totals(day: Bucket[], hour: number): BudgetUsage {
  const last = day.at(-1);
  return { hour: last?.hour === hour ? last.tokens : 0, day: day.reduce((sum, b) => sum + b.tokens, 0) };
}

/** A caller's id: the sha256 of its API key (never the key), or the anonymous id. */
export const keyIdOf = (apiKey: string | undefined): string => (apiKey ? createHash("sha256").update(apiKey, "utf8").digest("hex") : ANONYMOUS_KEY_ID);

/** How logs and the API show a caller's id: its first 16 hex digits, enough to tell keys apart. */
export const shownKeyId = (keyId: string): string => keyId.slice(0, 16);

export class TokenBudget {
  private limits: TokenBudgetLimits;
  private readonly now: () => number;
  private readonly q;
  /** Tokens not yet written, by key id and hour. */
  private readonly unwritten = new Map<string, Map<number, number>>();

  constructor(private readonly db: Db, { now, ...limits }: TokenBudgetOptions = {}) {
    this.limits = TokenBudgetLimits.parse(limits);
    this.now = now ?? Date.now;
    this.q = {
      day: db.prepare<[string, number, number], Bucket>("SELECT hour, tokens FROM cloud_usage WHERE key_id = ? AND hour > ? AND hour <= ? ORDER BY hour"),
      add: db.prepare<[string, number, number]>(
        "INSERT INTO cloud_usage (key_id, hour, tokens) VALUES (?, ?, ?) ON CONFLICT (key_id, hour) DO UPDATE SET tokens = tokens + excluded.tokens",
      ),
      prune: db.prepare<[number]>("DELETE FROM cloud_usage WHERE hour <= ?"),
      keys: db.prepare<[number], { key_id: string }>("SELECT DISTINCT key_id FROM cloud_usage WHERE hour > ? ORDER BY key_id"),
    };
  }

  /**
   * Whether `estimatedTokens` more fit in both windows. A refusal names the window that stays closed longer, and
   * when it opens: the next clock hour for the hour, the hour enough old buckets have left the day. (An estimate
   * above a limit never fits; its retryAfterMs is when that window is empty.)
   */
  check(keyId: string, estimatedTokens: number): BudgetCheck {
    const { perHour, perDay } = this.limits;
    if (perHour === undefined && perDay === undefined) return { ok: true };
    const now = this.now();
    const hour = Math.floor(now / HOUR_MS);
    const buckets = this.buckets(keyId, hour);
    const used = totals(buckets, hour);
    let refusal: BudgetRefusal | undefined;
    if (perHour !== undefined && used.hour + estimatedTokens > perHour) {
      refusal = { ok: false, window: "hour", limit: perHour, used: used.hour, retryAfterMs: (hour + 1) * HOUR_MS - now };
    }
    if (perDay !== undefined && used.day + estimatedTokens > perDay) {
      let remaining = used.day;
      let opensAt = now;
      for (const b of buckets) {
        if (remaining + estimatedTokens <= perDay) break;
        remaining -= b.tokens;
        opensAt = (b.hour + DAY_HOURS) * HOUR_MS;
      }
      if (!refusal || opensAt - now > refusal.retryAfterMs) refusal = { ok: false, window: "day", limit: perDay, used: used.day, retryAfterMs: opensAt - now };
    }
    return refusal ?? { ok: true };
  }

  /** Adds tokens spent to the key's current hour (held in memory while the disk is full). */
  record(keyId: string, tokens: number): void {
    if (!Number.isInteger(tokens) || tokens < 0) throw new RangeError(`tokens must be a non-negative integer, got ${tokens}`);
    const hours = this.unwritten.get(keyId) ?? new Map<number, number>();
    const hour = Math.floor(this.now() / HOUR_MS);
    hours.set(hour, (hours.get(hour) ?? 0) + tokens);
    this.unwritten.set(keyId, hours);
    try {
      this.db.transaction(() => {
        for (const [id, byHour] of this.unwritten) for (const [h, n] of byHour) this.q.add.run(id, h, n);
      })();
      this.unwritten.clear();
    } catch (error) {
      if (!isStorageFull(error)) throw error;
    }
  }

  /** Tokens held in memory because the disk refused them. */
  get unwrittenTokens(): number {
    let sum = 0;
    for (const byHour of this.unwritten.values()) for (const n of byHour.values()) sum += n;
    return sum;
  }

  usage(keyId: string): BudgetUsage {
    const hour = Math.floor(this.now() / HOUR_MS);
    return totals(this.buckets(keyId, hour), hour);
  }

  /** Every key that spent cloud tokens in the last day, with what it spent, and the limits. */
  overview(): { limits: TokenBudgetLimits; keys: (BudgetUsage & { keyId: string })[] } {
    const hour = Math.floor(this.now() / HOUR_MS);
    const ids = new Set([...this.q.keys.all(hour - DAY_HOURS).map((r) => r.key_id), ...this.unwritten.keys()]);
    return { limits: this.limits, keys: [...ids].sort().map((keyId) => ({ keyId, ...this.usage(keyId) })) };
  }

  /** New limits (a configuration reload); what each key spent stays counted. */
  setLimits(limits: z.input<typeof TokenBudgetLimits>): void {
    this.limits = TokenBudgetLimits.parse(limits);
  }

  /** Hourly buckets stored (one per key and hour of the last day, once pruned). */
  get rows(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM cloud_usage").get() as { n: number }).n;
  }

  /** Deletes the buckets no window counts any more; returns how many. */
  prune(): number {
    return this.q.prune.run(Math.floor(this.now() / HOUR_MS) - DAY_HOURS).changes;
  }

  /** The key's buckets in the day ending with `hour`, oldest first. */
  private buckets(keyId: string, hour: number): Bucket[] {
    const rows = this.q.day.all(keyId, hour - DAY_HOURS, hour);
    const held = this.unwritten.get(keyId);
    if (!held) return rows;
    const merged = new Map(rows.map((b) => [b.hour, b.tokens]));
    for (const [h, n] of held) if (h > hour - DAY_HOURS && h <= hour) merged.set(h, (merged.get(h) ?? 0) + n);
    return [...merged].sort(([a], [b]) => a - b).map(([h, tokens]) => ({ hour: h, tokens }));
  }
}
