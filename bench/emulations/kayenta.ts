/**
 * Kayenta's NetflixACAJudge (anchors note §b.3), run as a Spinnaker canary stage: one judgement at the end of each
 * canary step over a growing lookback (after a warm-up), on per-interval time series of the canary and the baseline:
 * error rate, p95 and p99, direction `increase`, one group.
 *
 * Per metric: NaN/missing points removed; an empty side ⇒ NODATA; identical or all-equal samples ⇒ Pass; otherwise a
 * two-sample Mann–Whitney (Wilcoxon rank-sum) confidence interval for the shift canary − baseline at 98 % with the
 * Hodges–Lehmann estimate; High when the interval's lower bound exceeds the tolerance band 0.25 × |HL| and the effect
 * size (mean ratio) is ≥ allowedIncrease (1.0: no practical gate). Score = Pass ÷ (Pass + High + Low) × 100; ≥ 50 %
 * NODATA ⇒ 0. Every interim score must stay above marginal (75), the last one must reach pass (95); otherwise the
 * canary fails and is rolled back. There is no baseline at 100 %, so the bake phase is not judged.
 *
 * The CI uses the textbook normal approximation for the order statistics of the pairwise differences (no tie
 * correction), which matches Kayenta's root-finding on the normal approximation closely for these sample sizes.
 */
import type { IntervalMetrics, VersionStats } from '../../src/domain/metrics.js';
import type { Simulator } from '../../src/metrics/simulator.js';
import { type BenchContract, type Controller, plannedWeight, type RolloutRun } from './types.js';

const TOLERANCE = 0.25;
const ALLOWED_INCREASE = 1.0;
const PASS_SCORE = 95;
const MARGINAL_SCORE = 75;
/** z for a two-sided 98 % interval (Kayenta's judge confidence 0.98). */
const Z_99 = 2.3263478740408408;

type Classification = 'pass' | 'high' | 'low' | 'nodata';

export function mannWhitneyShift(
  canary: number[],
  baseline: number[],
): { lower: number; upper: number; estimate: number } {
  const diffs: number[] = [];
  for (const c of canary) for (const b of baseline) diffs.push(c - b);
  diffs.sort((x, y) => x - y);
  const n = canary.length;
  const m = baseline.length;
  const nm = n * m;
  const mid = (nm - 1) / 2;
  const estimate = ((diffs[Math.floor(mid)] as number) + (diffs[Math.ceil(mid)] as number)) / 2;
  const k = Math.floor(nm / 2 - Z_99 * Math.sqrt((nm * (n + m + 1)) / 12));
  if (k < 0) return { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY, estimate };
  return { lower: diffs[k] as number, upper: diffs[nm - 1 - k] as number, estimate };
}

export function classifyIncrease(canary: number[], baseline: number[]): Classification {
  if (canary.length === 0 || baseline.length === 0) return 'nodata';
  const sc = [...canary].sort((a, b) => a - b);
  const sb = [...baseline].sort((a, b) => a - b);
  if (sc.length === sb.length && sc.every((v, i) => v === sb[i])) return 'pass';
  const all = [...canary, ...baseline];
  if (all.every((v) => v === all[0])) return 'pass';
  const mw = mannWhitneyShift(canary, baseline);
  const band = TOLERANCE * Math.abs(mw.estimate);
  const meanC = canary.reduce((a, b) => a + b, 0) / canary.length;
  const meanB = baseline.reduce((a, b) => a + b, 0) / baseline.length;
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

export function kayentaScore(history: readonly IntervalMetrics[]): number {
  const classes = METRICS.map((metric) =>
    classifyIncrease(series(history, 'canary', metric), series(history, 'baseline', metric)),
  );
  const nodata = classes.filter((c) => c === 'nodata').length;
  if (nodata * 2 >= classes.length) return 0;
  const judged = classes.filter((c) => c !== 'nodata');
  const passed = judged.filter((c) => c === 'pass').length;
  return judged.length === 0 ? 100 : (100 * passed) / judged.length;
}

export class KayentaController implements Controller {
  readonly name = 'Kayenta MW 98%';

  run(sim: Simulator, contract: BenchContract): RolloutRun {
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
      const score = kayentaScore(history);
      if (score <= MARGINAL_SCORE || (i === lastJudgement && score < PASS_SCORE)) {
        return { outcome: 'rolled_back', decisionInterval: i, canaryRequests };
      }
    }
    return { outcome: 'promoted', decisionInterval: last, canaryRequests };
  }
}
