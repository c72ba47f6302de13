/**
 * Kayenta's NetflixACAJudge run as a Spinnaker canary stage, following spinnaker/kayenta
 * `kayenta-judge/.../NetflixACAJudge.scala` (MannWhitneyClassifier with tolerance 0.25 and confLevel 0.98, one group,
 * direction `increase`), `kayenta-judge/.../classifiers/metric/MannWhitneyClassifier.scala` (empty side ⇒ NODATA,
 * identical samples ⇒ Pass, High when the interval's lower bound exceeds tolerance × |Hodges–Lehmann estimate|),
 * `WeightedSumScorer.scala` / `ThresholdScoreClassifier.scala` (score = Pass ÷ judged × 100; every interim score must
 * stay above marginal 75, the last must reach pass 95) and `kayenta-mannwhitney/.../MannWhitney.scala` (the
 * confidence interval), as summarised in the anchors note §b.3.
 *
 * The interval is MannWhitney.scala's, itself R's asymptotic `wilcox.test(x, y, conf.int = TRUE)`: the bounds are the
 * shifts d at which the standardised rank-sum of (canary − d) against the control equals ∓z(α/2), with the TIE
 * correction in the variance (Σ(t³ − t) over tied groups) and the CONTINUITY correction (0.5 × sign of the centred
 * statistic); a bound that the search range [min(canary) − max(control), max(canary) − min(control)] cannot bracket
 * is that end of the range; the estimate is the shift at z = 0. Kayenta solves with Brent's method (tolerance
 * 1e-4); the statistic is monotone in d, so this emulation bisects to a tighter tolerance.
 *
 * The stage: one judgement at the end of each canary step over a growing lookback (after a warm-up), on per-interval
 * series of error rate, p95 and p99. The control is the concurrent baseline or, when the source is a recorded
 * series without one, the `controlIntervals` before the rollout (Kayenta's control scope may cover another time
 * range). There is no baseline at 100 %, so the bake is not judged.
 *
 * One deviation: when every value on both sides is equal (but the sides differ in length) MannWhitney.scala throws
 * ("cannot compute confidence interval when all observations are tied"); this emulation classifies that as Pass.
 */
import type { IntervalMetrics, VersionStats } from '../../src/domain/metrics.js';
import {
  type BenchContract,
  type Controller,
  type IntervalSource,
  plannedLength,
  plannedWeight,
  type RolloutRun,
} from './types.js';

const TOLERANCE = 0.25;
const CONFIDENCE = 0.98;
const ALLOWED_INCREASE = 1.0;
const PASS_SCORE = 95;
const MARGINAL_SCORE = 75;

type Classification = 'pass' | 'high' | 'low' | 'nodata';

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}

/**
 * The standardised, continuity-corrected rank-sum statistic of (canary − shift) against the control, minus `z`
 * (MannWhitney.scala's `wilcoxonDiff`). Decreasing in `shift`.
 */
export function wilcoxonDiff(canary: readonly number[], control: readonly number[], shift: number, z: number): number {
  return wilcoxonDiffSorted(sortedCopy(canary), sortedCopy(control), shift, z);
}

function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** wilcoxonDiff on ascending arrays: one merge pass, average ranks over tied groups. */
function wilcoxonDiffSorted(xs: readonly number[], ys: readonly number[], shift: number, z: number): number {
  const nx = xs.length;
  const ny = ys.length;
  let i = 0;
  let j = 0;
  let rank = 0;
  let rankSumX = 0;
  let ties = 0;
  while (i < nx || j < ny) {
    const xv = i < nx ? (xs[i] as number) - shift : Number.POSITIVE_INFINITY;
    const yv = j < ny ? (ys[j] as number) : Number.POSITIVE_INFINITY;
    const v = Math.min(xv, yv);
    let inX = 0;
    let inY = 0;
    while (i < nx && (xs[i] as number) - shift === v) {
      i++;
      inX++;
    }
    while (j < ny && (ys[j] as number) === v) {
      j++;
      inY++;
    }
    const t = inX + inY;
    rankSumX += inX * (rank + (t + 1) / 2);
    ties += t * t * t - t;
    rank += t;
  }
  const dz = rankSumX - (nx * (nx + 1)) / 2 - (nx * ny) / 2;
  const correction = Math.sign(dz) * 0.5;
  const sigma = Math.sqrt(((nx * ny) / 12) * (nx + ny + 1 - ties / ((nx + ny) * (nx + ny - 1))));
  if (sigma === 0) throw new Error('cannot compute confidence interval when all observations are tied');
  return (dz - correction) / sigma - z;
}

function root(f: (shift: number) => number, lo: number, hi: number): number {
  let a = lo;
  let b = hi;
  for (let k = 0; k < 200 && b - a > 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)); k++) {
    const mid = (a + b) / 2;
    if (f(mid) > 0) a = mid;
    else b = mid;
  }
  return (a + b) / 2;
}

/** Kayenta's Mann–Whitney confidence interval and Hodges–Lehmann-type estimate of the shift canary − control. */
export function mannWhitneyShift(
  canary: readonly number[],
  control: readonly number[],
  confidence = CONFIDENCE,
): { lower: number; upper: number; estimate: number } {
  const z = -normalQuantile((1 - confidence) / 2);
  const xs = sortedCopy(canary);
  const ys = sortedCopy(control);
  const muMin = (xs[0] as number) - (ys[ys.length - 1] as number);
  const muMax = (xs[xs.length - 1] as number) - (ys[0] as number);
  const f = (zq: number) => (d: number) => wilcoxonDiffSorted(xs, ys, d, zq);
  const bound = (zq: number) => {
    if (f(zq)(muMin) <= 0) return muMin;
    if (f(zq)(muMax) >= 0) return muMax;
    return root(f(zq), muMin, muMax);
  };
  return { lower: bound(z), upper: bound(-z), estimate: root(f(0), muMin, muMax) };
}

export function classifyIncrease(canary: number[], control: number[]): Classification {
  if (canary.length === 0 || control.length === 0) return 'nodata';
  if (canary.length === control.length && canary.every((v, i) => v === control[i])) return 'pass';
  const all = [...canary, ...control];
  if (all.every((v) => v === all[0])) return 'pass';
  const mw = mannWhitneyShift(canary, control);
  const band = TOLERANCE * Math.abs(mw.estimate);
  const meanC = canary.reduce((a, b) => a + b, 0) / canary.length;
  const meanB = control.reduce((a, b) => a + b, 0) / control.length;
  const ratio = meanC / meanB;
  const effectOk = Number.isNaN(ratio) || ratio >= ALLOWED_INCREASE;
  if (mw.lower > band && effectOk) return 'high';
  return 'pass';
}

const METRICS: ((s: VersionStats) => number | null)[] = [
  (s) => (100 * s.failures) / s.requests,
  (s) => s.latency.p95Ms,
  (s) => s.latency.p99Ms,
];

function series(
  history: readonly IntervalMetrics[],
  side: 'canary' | 'baseline',
  metric: (s: VersionStats) => number | null,
) {
  const out: number[] = [];
  for (const m of history) {
    const s = m[side];
    if (!s || s.requests === 0) continue;
    const v = metric(s);
    if (v !== null && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** Score of one judgement; `control` replaces the concurrent baseline when given (its canary side is the control). */
export function kayentaScore(history: readonly IntervalMetrics[], control?: readonly IntervalMetrics[]): number {
  const classes = METRICS.map((metric) =>
    classifyIncrease(
      series(history, 'canary', metric),
      control ? series(control, 'canary', metric) : series(history, 'baseline', metric),
    ),
  );
  const nodata = classes.filter((c) => c === 'nodata').length;
  if (nodata * 2 >= classes.length) return 0;
  const judged = classes.filter((c) => c !== 'nodata');
  const passed = judged.filter((c) => c === 'pass').length;
  return judged.length === 0 ? 100 : (100 * passed) / judged.length;
}

export class KayentaController implements Controller {
  readonly name: string;

  /** `controlIntervals`: with a recorded series, that many intervals before the rollout are the control. */
  constructor(private readonly controlIntervals = 0) {
    this.name =
      controlIntervals > 0 ? `Kayenta MW 98% (control: ${controlIntervals} prior intervals)` : 'Kayenta MW 98%';
  }

  run(sim: IntervalSource, contract: BenchContract): RolloutRun {
    const control = this.controlIntervals > 0 ? sim.preceding?.(this.controlIntervals) : undefined;
    const judgements = new Set<number>();
    let end = 0;
    for (const s of contract.steps) {
      end += s.intervals;
      judgements.add(end - 1);
    }
    const lastJudgement = end - 1;
    const history: IntervalMetrics[] = [];
    const canaryRequests: number[] = [];
    let last = -1;
    for (let i = 0; i < contract.horizonIntervals; i++) {
      const weight = plannedWeight(contract, i);
      if (weight === null) break;
      last = i;
      sim.setCanaryPercent(weight);
      const m = sim.generate(i);
      canaryRequests.push(m.canary?.requests ?? 0);
      if (i >= contract.warmupIntervals) history.push(m);
      if (!judgements.has(i)) continue;
      const score = kayentaScore(history, control);
      if (score <= MARGINAL_SCORE || (i === lastJudgement && score < PASS_SCORE)) {
        return { outcome: 'rolled_back', decisionInterval: i, canaryRequests };
      }
    }
    // A recorded series can end before the plan does: that rollout has not finished.
    if (last === plannedLength(contract) - 1) return { outcome: 'promoted', decisionInterval: last, canaryRequests };
    return { outcome: 'stalled', decisionInterval: null, canaryRequests };
  }
}
