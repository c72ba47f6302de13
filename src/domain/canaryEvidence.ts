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
 */

import jStat from 'jstat';
import { durationText } from './durationText.js';

import type { CanaryEvidencePlan } from './model.js';

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

/**
 * Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9), so the domain needs
 * no untyped statistics package for two quantiles.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  return jStat.normal.inv(p, 0, 1);
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
