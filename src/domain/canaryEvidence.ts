/**
 * How much evidence the first canary step can gather: the minimum detectable effect (MDE) and the time needed to
 * detect a canary that runs exactly at the error-rate guardrail.
 *
 * Model: one-sample binomial test of the canary's error proportion against the baseline p0 (today's error rate),
 * one-sided, normal approximation. To detect a true rate p1 = p0 + δ at level α with power 1 − β it needs
 *
 *     n(δ) = ( z₁₋α · √(p0·(1 − p0)) + z₁₋β · √(p1·(1 − p1)) )² / δ²      requests.
 *
 * - requests needed  = n(threshold − p0), the guardrail's margin over today's error rate;
 * - seconds needed   = requests needed / (qps × first-step share);
 * - MDE              = the δ for which n(δ) equals the requests the step sees in its minimum duration (bisection;
 *                      n is decreasing in δ);
 * - adequate         = seconds needed ≤ the step's minimum duration.
 * The baseline is treated as known (it is measured on far more traffic than the canary), which is why a one-sample
 * test is used rather than a two-proportion test. With p0 = 0 the approximation is optimistic: a single error is
 * already "significant"; the note says so.
 * Unknowns are -1: secondsNeededAtFirstStep when there is no traffic figure, requests/seconds when the margin is not
 * positive (today's error rate is already at or above the guardrail).
 *
 * Latency guardrails (`planLatencyEvidence`): the judge PASSes pXX < T when the upper bound (1 − passAlpha) of the
 * canary's share of requests slower than T is below 1 − XX % (latencyEvidence.ts). A healthy canary's share is
 * today's, s0, read off the current p95 and p99 (log-normal between them); the requests it needs to PASS with the
 * policy's power are judge/passEvidence.ts's, gathered at the first step's share (the PASS evidence spans the
 * rollout, so later steps only add). The block says whether that fits the first step's minimum duration (adequate)
 * and the rollout's planned time, which gives the first step that time (rollout/plan.ts); a rollout that cannot
 * conclude asks a person at the planned time (the rollout state machine), so the note says that too.
 */

import { durationText } from './durationText.js';
import { guardianRolloutPlan } from './judge/configuration.js';
import { normalQuantile } from './judge/distributions.js';
import { DEFAULT_JUDGE_OPTIONS } from './judge/judge.js';
import { passRequirement } from './judge/passEvidence.js';
import type { CanaryEvidencePlan, ContractTerms, Guardrail, LatencyEvidencePlan, ServiceSlo } from './model.js';
import type { Policy } from './policy.js';

export interface CanaryEvidenceInput {
  /** Today's error rate, %. */
  baselineErrorRatePercent: number;
  /** Error-rate guardrail, %. */
  thresholdPercent: number;
  /** Expected requests per second for the whole service. */
  qps: number;
  /** First canary step's traffic share, %; null when the ramp has no canary step (evidence comes from the bake at 100 %). */
  firstStepPercent: number | null;
  /** Minimum duration of that step (or the bake time when there is no canary step), seconds. */
  durationSeconds: number;
  alpha: number;
  power: number;
}

export function planCanaryEvidence(input: CanaryEvidenceInput): CanaryEvidencePlan {
  const p0 = clamp01(input.baselineErrorRatePercent / 100);
  const p1 = clamp01(input.thresholdPercent / 100);
  const zAlpha = normalQuantile(1 - input.alpha);
  const zBeta = normalQuantile(input.power);
  const share = (input.firstStepPercent ?? 100) / 100;
  const rate = input.qps * share;
  const stepLabel =
    input.firstStepPercent === null
      ? `the bake at 100 % (${durationText(input.durationSeconds)}; no canary step)`
      : `the first step (${fmt(input.firstStepPercent)} % for ${durationText(input.durationSeconds)})`;
  const available = Math.floor(rate * input.durationSeconds);
  const mdeFraction = minimumDetectableEffect(p0, available, zAlpha, zBeta);
  const mdePercent = round(mdeFraction * 100, 4);
  const margin = p1 - p0;
  const test = `one-sided binomial test, α = ${input.alpha}, power ${input.power}`;

  if (margin <= 0) {
    return {
      minimumDetectableEffectPercent: mdePercent,
      requestsNeededAtFirstStep: -1,
      secondsNeededAtFirstStep: -1,
      adequate: false,
      note: `today's error rate ${fmt(input.baselineErrorRatePercent)} % is already at or above the guardrail ${fmt(input.thresholdPercent)} %: the canary would fail at once; fix the baseline or renegotiate the guardrail`,
    };
  }

  const needed = Math.ceil(requestsNeeded(p0, p1, zAlpha, zBeta));
  if (rate <= 0) {
    return {
      minimumDetectableEffectPercent: mdePercent,
      requestsNeededAtFirstStep: needed,
      secondsNeededAtFirstStep: -1,
      adequate: false,
      note: `no traffic figure was given: ${grouped(needed)} requests are needed to see the ${fmt(margin * 100)} pp margin (${test}), but the time to gather them is unknown`,
    };
  }

  const seconds = Math.ceil(needed / rate);
  const adequate = seconds <= input.durationSeconds;
  const base = `${stepLabel} sees about ${grouped(available)} requests at ${input.qps >= 1000 ? grouped(input.qps) : fmt(input.qps)} requests/s; detecting the ${fmt(margin * 100)} pp margin to the guardrail needs ${grouped(needed)} requests (about ${durationText(seconds)}) with a ${test}; smallest detectable increase in that time: ${fmt(mdePercent)} pp`;
  const zeroBaseline = p0 === 0 ? ' (baseline 0 %: the normal approximation is optimistic)' : '';
  if (adequate)
    return {
      minimumDetectableEffectPercent: mdePercent,
      requestsNeededAtFirstStep: needed,
      secondsNeededAtFirstStep: seconds,
      adequate,
      note: `${base}${zeroBaseline}`,
    };

  const share100 = Math.min(100, Math.ceil((needed / (input.qps * input.durationSeconds)) * 100));
  const advice =
    input.firstStepPercent === null
      ? `lengthen the bake to at least ${durationText(seconds)}`
      : `lengthen the first step to at least ${durationText(seconds)} or start it at ${share100} % or more`;
  return {
    minimumDetectableEffectPercent: mdePercent,
    requestsNeededAtFirstStep: needed,
    secondsNeededAtFirstStep: seconds,
    adequate,
    note: `${base}; not enough: ${advice}${zeroBaseline}`,
  };
}

/** n(δ) of the module comment, with p1 = p0 + δ. */
export function requestsNeeded(p0: number, p1: number, zAlpha: number, zBeta: number): number {
  const delta = p1 - p0;
  if (delta <= 0) return Number.POSITIVE_INFINITY;
  const num = zAlpha * Math.sqrt(p0 * (1 - p0)) + zBeta * Math.sqrt(p1 * (1 - p1));
  return (num * num) / (delta * delta);
}

/** Smallest δ with n(δ) ≤ available; 1 − p0 (nothing short of total failure) when even that needs more. */
export function minimumDetectableEffect(p0: number, available: number, zAlpha: number, zBeta: number): number {
  let hi = 1 - p0;
  if (available <= 0 || requestsNeeded(p0, p0 + hi, zAlpha, zBeta) > available) return hi;
  let lo = 0;
  for (let i = 0; i < 100 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (requestsNeeded(p0, p0 + mid, zAlpha, zBeta) > available) lo = mid;
    else hi = mid;
  }
  return hi;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** 450000 → "450,000"; non-integers are rounded first (fixed locale, so notes do not depend on the server's). */
function grouped(x: number): string {
  return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function fmt(x: number): string {
  return String(round(x, 4));
}

/** The contract's evidence block: the error-rate MDE of the first step, and whether each latency guardrail can conclude. */
export function planContractEvidence(slo: ServiceSlo, terms: ContractTerms, policy: Policy): CanaryEvidencePlan {
  const error = terms.guardrails.find((g) => g.metric === 'error_rate');
  const first = terms.ramp.steps.find((s) => s.trafficPercent < 100);
  const durationSeconds = first ? first.minDurationSeconds : terms.ramp.bakeTimeSeconds;
  const plan = planCanaryEvidence({
    baselineErrorRatePercent: slo.currentErrorRatePercent,
    thresholdPercent: error?.threshold ?? 0,
    qps: slo.currentQps,
    firstStepPercent: first ? first.trafficPercent : null,
    durationSeconds,
    alpha: policy.canaryEvidence.alpha,
    power: policy.canaryEvidence.power,
  });
  // The planned time the guardian will hold the rollout to (whole intervals, warm-up and evidence windows, each
  // step's minimum requests at its share of today's traffic): the same plan the rollout worker asks a person at.
  const plannedSeconds = guardianRolloutPlan(
    { ...terms, targetErrorRatePercent: slo.targetErrorRatePercent },
    { policy, serviceQps: slo.currentQps, today: slo },
  ).seconds;
  const latency = terms.guardrails
    .filter((g): g is Guardrail & { metric: 'latency_p95' | 'latency_p99' } => g.metric !== 'error_rate')
    .map((g) =>
      planLatencyEvidence({
        guardrail: g,
        currentP95Ms: slo.currentP95LatencyMs,
        currentP99Ms: slo.currentP99LatencyMs,
        qps: slo.currentQps,
        firstStepPercent: first ? first.trafficPercent : null,
        durationSeconds,
        plannedSeconds,
        intervalSeconds: terms.ramp.analysisIntervalSeconds,
        passAlpha: DEFAULT_JUDGE_OPTIONS.passAlpha,
        power: policy.canaryEvidence.power,
      }),
    );
  const passing = error
    ? planErrorPassEvidence({
        currentErrorRatePercent: slo.currentErrorRatePercent,
        guardrail: error,
        qps: slo.currentQps,
        firstStepPercent: first ? first.trafficPercent : null,
        durationSeconds,
        plannedSeconds,
        passAlpha: DEFAULT_JUDGE_OPTIONS.passAlpha,
        power: policy.canaryEvidence.power,
      })
    : null;
  const withPassing = {
    ...(passing ? { ...plan, note: `${plan.note}. Passing: ${passing.note}` } : plan),
    plannedSeconds,
  };
  if (latency.length === 0) return withPassing;
  return {
    ...withPassing,
    adequate: plan.adequate && latency.every((l) => l.adequate),
    note: `${withPassing.note}. Latency: ${latency.map((l) => l.note).join('; ')}`,
    latency,
  };
}

export interface ErrorPassEvidenceInput {
  currentErrorRatePercent: number;
  guardrail: Guardrail;
  qps: number;
  firstStepPercent: number | null;
  durationSeconds: number;
  /** The rollout's planned time (judge/configuration.ts `guardianRolloutPlan`). */
  plannedSeconds: number;
  passAlpha: number;
  power: number;
}

/**
 * How long a canary as healthy as today takes to PASS the error guardrail (the requests: judge/passEvidence.ts),
 * gathered at the first step's share (the PASS evidence spans the rollout). The closer today's rate is to the
 * guardrail, the longer; the rollout plan gives the first step that time, and a rollout that still cannot conclude
 * asks a person at its planned time.
 */
export function planErrorPassEvidence(input: ErrorPassEvidenceInput): {
  requestsNeeded: number;
  secondsNeeded: number;
  note: string;
} {
  const head = `a canary at today's ${fmt(input.currentErrorRatePercent)} % errors`;
  const { requests: needed } = passRequirement(
    input.guardrail,
    { currentErrorRatePercent: input.currentErrorRatePercent, currentP95LatencyMs: 0, currentP99LatencyMs: 0 },
    input,
  );
  if (needed === null)
    return {
      requestsNeeded: -1,
      secondsNeeded: -1,
      note: `${head} can never show it is below ${fmt(input.guardrail.threshold)} %`,
    };
  const rate = input.qps * ((input.firstStepPercent ?? 100) / 100);
  if (!(rate > 0)) {
    return {
      requestsNeeded: needed,
      secondsNeeded: -1,
      note: `${head} shows it is below ${fmt(input.guardrail.threshold)} % after about ${grouped(needed)} requests; no traffic figure, so the time is unknown`,
    };
  }
  const seconds = Math.ceil(needed / rate);
  const verdict =
    seconds <= input.durationSeconds
      ? 'within the first step'
      : seconds <= input.plannedSeconds
        ? `within the planned ${durationText(input.plannedSeconds)}`
        : `longer than the planned ${durationText(input.plannedSeconds)}: the rollout will ask a person at the planned time`;
  return {
    requestsNeeded: needed,
    secondsNeeded: seconds,
    note: `${head} shows it is below ${fmt(input.guardrail.threshold)} % after about ${grouped(needed)} requests, about ${durationText(seconds)} at ${fmt(round(rate, 3))} requests/s: ${verdict}`,
  };
}

export interface LatencyEvidenceInput {
  guardrail: Guardrail & { metric: 'latency_p95' | 'latency_p99' };
  currentP95Ms: number;
  currentP99Ms: number;
  /** Expected requests per second for the whole service. */
  qps: number;
  firstStepPercent: number | null;
  /** The first step's minimum duration (the bake's when there is no canary step), seconds. */
  durationSeconds: number;
  /** The rollout's planned time (judge/configuration.ts `guardianRolloutPlan`). */
  plannedSeconds: number;
  intervalSeconds: number;
  passAlpha: number;
  power: number;
}

export function planLatencyEvidence(input: LatencyEvidenceInput): LatencyEvidencePlan {
  const g = input.guardrail;
  const name = g.metric === 'latency_p99' ? 'p99' : 'p95';
  const requirement = passRequirement(
    g,
    { currentErrorRatePercent: 0, currentP95LatencyMs: input.currentP95Ms, currentP99LatencyMs: input.currentP99Ms },
    input,
  );
  const t = requirement.allowedShare;
  const s0 = requirement.todayShare;
  const head = `${name} < ${fmt(g.threshold)} ms`;
  const base = {
    metric: g.metric,
    thresholdMs: g.threshold,
    allowedSlowPercent: t * 100,
  };
  // Without today's figures, assume a healthy canary sits at half the allowed share.
  const expected = s0 ?? t / 2;
  const needed = requirement.requests;
  if (needed === null) {
    return {
      ...base,
      expectedSlowPercent: round(expected * 100, 3),
      requestsNeeded: -1,
      secondsNeeded: -1,
      adequate: false,
      withinPlannedTime: false,
      note: `${head}: today about ${fmt(round(expected * 100, 2))} % of requests are already slower (${fmt(t * 100)} % allowed): a canary like today's can never pass it; renegotiate the guardrail`,
    };
  }
  const rate = input.qps * ((input.firstStepPercent ?? 100) / 100);
  const today =
    s0 === null
      ? 'today’s share unknown, assumed half the allowance'
      : `today about ${fmt(round(s0 * 100, 2))} % of requests are slower`;
  if (!(rate > 0)) {
    return {
      ...base,
      expectedSlowPercent: s0 === null ? -1 : round(s0 * 100, 3),
      requestsNeeded: needed,
      secondsNeeded: -1,
      adequate: false,
      withinPlannedTime: false,
      note: `${head} (${today}, ${fmt(t * 100)} % allowed): passing needs about ${grouped(needed)} canary requests; no traffic figure, so the time is unknown`,
    };
  }
  const seconds = Math.ceil(Math.max(needed / rate, g.minimumEvidence.minIntervals * input.intervalSeconds));
  const adequate = seconds <= input.durationSeconds;
  const withinPlannedTime = seconds <= input.plannedSeconds;
  const verdict = adequate
    ? 'within the first step'
    : withinPlannedTime
      ? `longer than the first step (${durationText(input.durationSeconds)}) but within the planned ${durationText(input.plannedSeconds)}: the first step holds until it concludes`
      : `longer than the planned ${durationText(input.plannedSeconds)}: the rollout will ask a person at the planned time unless the first step runs longer or at a larger share`;
  return {
    ...base,
    expectedSlowPercent: s0 === null ? -1 : round(s0 * 100, 3),
    requestsNeeded: needed,
    secondsNeeded: seconds,
    adequate,
    withinPlannedTime,
    note: `${head} (${today}, ${fmt(t * 100)} % allowed): passing needs about ${grouped(needed)} canary requests, about ${durationText(seconds)} at ${fmt(round(rate, 3))} requests/s: ${verdict}`,
  };
}
