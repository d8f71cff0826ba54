/**
 * Evaluates alert rules against the daemon's metrics every interval. Each rule is inactive, pending (its
 * condition holds, not yet for its `for:` duration) or firing; a firing rule whose condition stops holding is
 * resolved. Every change is an event; the clock is injected so tests drive the durations.
 */
import { durationMs } from "../config/duration.js";
import { SampleHistory } from "./history.js";
import type { AlertRule } from "./rules.js";
import { parseExposition } from "./samples.js";
import { SIGNALS, type Signal, type SignalName } from "./signals.js";

export type AlertState = "inactive" | "pending" | "firing";

export interface AlertView {
  name: string;
  severity: AlertRule["severity"];
  state: AlertState;
  signal: AlertRule["signal"];
  /** The signal's value at the last evaluation (null when there was nothing to judge). */
  value: number | null;
  threshold: number;
  op: AlertRule["op"];
  /** When it became pending, and when it fired (ISO times). */
  pendingSince?: string;
  firingSince?: string;
  summary: string;
}

export interface AlertEvent {
  event: "alert";
  name: string;
  severity: AlertRule["severity"];
  state: "pending" | "firing" | "resolved";
  value: number | null;
  threshold: number;
  summary: string;
  at: string;
}

interface Tracked {
  rule: AlertRule;
  state: AlertState;
  value: number | undefined;
  pendingSince?: number;
  firingSince?: number;
}

export class AlertEngine {
  private readonly tracked: Tracked[];
  private readonly history: SampleHistory;
  /** The signals the rules watch, each read once per evaluation however many rules share it. */
  private readonly signals: SignalName[];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    rules: readonly AlertRule[],
    private readonly metricsText: () => string,
    private readonly emit: (event: AlertEvent) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.tracked = rules.map((rule) => ({ rule, state: "inactive", value: undefined }));
    this.history = new SampleHistory(Math.max(0, ...rules.map((r) => SIGNALS[r.signal].windowMs)));
    this.signals = [...new Set(rules.map((r) => r.signal))];
  }

  /** Evaluates now and every `intervalMs` until stopped (the timer never keeps the process alive). */
  start(intervalMs: number): void {
    this.evaluate();
    this.timer = setInterval(() => this.evaluate(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** When the rules were last evaluated (ms since the epoch, on the engine's clock). */
  evaluatedAt: number | undefined;

  evaluate(): void {
    const at = this.now();
    this.evaluatedAt = at;
    const samples = parseExposition(this.metricsText());
    this.history.push(at, Object.fromEntries(this.signals.map((name) => [name, SIGNALS[name].reduce(samples)])));
    for (const t of this.tracked) {
      const { rule } = t;
      const signal: Signal = SIGNALS[rule.signal];
      const now = this.history.latest!.readings[rule.signal]!;
      t.value = signal.read(now, this.history.since(signal.windowMs)!.readings[rule.signal] ?? now);
      const holds = t.value !== undefined && (rule.op === ">" ? t.value > rule.threshold : t.value < rule.threshold);
      if (!holds) {
        if (t.state === "firing") this.change(t, "resolved", at);
        t.state = "inactive";
        t.pendingSince = t.firingSince = undefined;
        continue;
      }
      if (t.state === "inactive") {
        t.state = "pending";
        t.pendingSince = at;
        this.change(t, "pending", at);
      }
      if (t.state === "pending" && at - t.pendingSince! >= durationMs(rule.for)) {
        t.state = "firing";
        t.firingSince = at;
        this.change(t, "firing", at);
      }
    }
  }

  /** Every rule with its state, firing ones first. */
  alerts(): AlertView[] {
    const order = { firing: 0, pending: 1, inactive: 2 } as const;
    return this.tracked.map((t) => this.view(t)).sort((a, b) => order[a.state] - order[b.state]);
  }

  private view(t: Tracked): AlertView {
    const { rule } = t;
    return {
      name: rule.name,
      severity: rule.severity,
      state: t.state,
      signal: rule.signal,
      value: t.value ?? null,
      threshold: rule.threshold,
      op: rule.op,
      ...(t.pendingSince !== undefined && { pendingSince: new Date(t.pendingSince).toISOString() }),
      ...(t.firingSince !== undefined && { firingSince: new Date(t.firingSince).toISOString() }),
      summary: `${SIGNALS[rule.signal].help}: ${t.value === undefined ? "nothing to judge" : formatValue(t.value)} (${rule.op} ${formatValue(rule.threshold)} for ${rule.for})`,
    };
  }

  private change(t: Tracked, state: AlertEvent["state"], at: number): void {
    const v = this.view(t);
    this.emit({ event: "alert", name: v.name, severity: v.severity, state, value: v.value, threshold: v.threshold, summary: v.summary, at: new Date(at).toISOString() });
  }
}

const formatValue = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(3));
