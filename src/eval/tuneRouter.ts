/**
 * `edged eval --tune-router`: the router's difficulty threshold and cascade cut-off proposed from online
 * evaluation's samples, with what each setting would have done to the recorded traffic. A sample "agrees" when its
 * agreement with the reference reaches `agreeAt`; a setting escalates some of the recorded requests, which would
 * then have taken the reference's measured time, and keeps the rest on the device. The proposal is the setting
 * that escalates least while the requests kept on the device agree at the `target` rate.
 *
 * Only requests the device answered were sampled: a difficulty threshold can be judged at or below the current
 * one (those above it went to the cloud), a cascade cut-off at or above the current one.
 */
import type { RouterConfig } from "../router/schemas.js";
import type { OnlineSample } from "./onlineSamples.js";

export interface Outcome {
  /** The setting: a difficulty threshold (escalate at or above) or a cascade cut-off (escalate below). */
  value: number;
  escalated: number;
  kept: number;
  /** Share of the kept requests that agree with the reference; undefined when none is kept. */
  keptAgreement?: number;
  /** Mean time to answer, the escalated requests at the reference's time. */
  meanMs: number;
}

export interface Tuning {
  route: string;
  setting: "difficultyThreshold" | "cascade.minMeanLogprob";
  samples: number;
  current: Outcome;
  proposed?: Outcome;
  /** Every setting judged, from fewest escalations to most. */
  candidates: Outcome[];
}

function outcome(samples: readonly OnlineSample[], value: number, escalates: (s: OnlineSample) => boolean, agreeAt: number): Outcome {
  const up = samples.filter(escalates);
  const kept = samples.filter((s) => !escalates(s));
  const agree = kept.filter((s) => s.agreement >= agreeAt).length;
  const ms = up.reduce((n, s) => n + s.referenceMs, 0) + kept.reduce((n, s) => n + s.localMs, 0);
  return { value, escalated: up.length, kept: kept.length, ...(kept.length && { keptAgreement: agree / kept.length }), meanMs: ms / samples.length };
}

function tune(route: string, setting: Tuning["setting"], samples: OnlineSample[], current: number, values: number[], escalates: (value: number) => (s: OnlineSample) => boolean, o: { agreeAt: number; target: number }): Tuning | undefined {
  if (!samples.length) return undefined;
  const candidates = [...new Set([current, ...values])].map((v) => outcome(samples, v, escalates(v), o.agreeAt)).sort((a, b) => a.escalated - b.escalated || a.value - b.value);
  const proposed = candidates.find((c) => (c.keptAgreement ?? 0) >= o.target);
  return { route, setting, samples: samples.length, current: candidates.find((c) => c.value === current)!, proposed, candidates };
}

export function tuneRouter(samples: readonly OnlineSample[], router: RouterConfig, o: { agreeAt: number; target: number }): Tuning[] {
  const routes = [...new Set(samples.map((s) => s.route))].sort();
  return routes.flatMap((route) => {
    const config = router.routes.find((r) => r.model === route) ?? router.routes.find((r) => r.model === "*");
    const ofRoute = samples.filter((s) => s.route === route);
    const threshold = config?.difficultyThreshold ?? 1;
    const scored = ofRoute.filter((s) => s.difficulty !== undefined && s.difficulty < threshold);
    const difficulty = tune(route, "difficultyThreshold", scored, threshold, scored.map((s) => s.difficulty!), (t) => (s) => s.difficulty! >= t, o);
    const cutOff = config?.cascade?.minMeanLogprob;
    const probed = cutOff === undefined ? [] : ofRoute.filter((s) => s.confidence !== undefined && s.confidence >= cutOff);
    // escalating below a recorded confidence c catches it: candidates sit just above each one
    const cascade = cutOff === undefined ? undefined : tune(route, "cascade.minMeanLogprob", probed, cutOff, probed.map((s) => s.confidence! + 1e-6), (c) => (s) => s.confidence! < c, o);
    return [difficulty, cascade].filter((t): t is Tuning => t !== undefined);
  });
}
