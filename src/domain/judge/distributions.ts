/**
 * The distribution functions the judge needs, on jstat's special functions (log-gamma, regularised incomplete beta,
 * erfc): binomial tails, beta quantiles by bisection (monotone, so they cannot diverge at extreme tails) and
 * Clopper–Pearson bounds.
 *
 * Tails are computed directly on the small side (never as 1 − big), so p-values down to 1e-300 keep their precision;
 * the failure-weight logic of the judge relies on that.
 */
import jStat from 'jstat';

export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0 (got ${x})`);
  return jStat.gammaln(x);
}

/**
 * Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1. jstat evaluates the continued
 * fraction on the side of x where it converges, so a small tail keeps its precision.
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) throw new RangeError(`regularizedBeta needs a, b > 0 (got ${a}, ${b})`);
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return jStat.ibeta(x, a, b);
}

/** The complement 1 − I_x(a, b), computed on its own small side. */
function regularizedBetaComplement(x: number, a: number, b: number): number {
  return regularizedBeta(1 - x, b, a);
}

/** P(X ≥ k) for X ~ Binomial(n, p). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  return regularizedBeta(p, k, n - k + 1);
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialLowerTail(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  return regularizedBetaComplement(p, k + 1, n - k);
}

/** The x with I_x(a, b) = prob, by bisection (monotone, so it cannot diverge). */
export function betaQuantile(prob: number, a: number, b: number): number {
  if (!(prob >= 0 && prob <= 1)) throw new RangeError(`betaQuantile needs 0 ≤ prob ≤ 1 (got ${prob})`);
  if (prob === 0) return 0;
  if (prob === 1) return 1;
  let lo = 0;
  let hi = 1;
  // Relative precision 1e-12 is far below anything the judge reports; 80 halvings reach it for values ≥ 1e-12.
  for (let i = 0; i < 80 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (regularizedBeta(mid, a, b) < prob) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** One-sided Clopper–Pearson lower bound of a binomial proportion at confidence 1 − alpha. */
export function clopperPearsonLower(successes: number, trials: number, alpha: number): number {
  if (trials <= 0 || successes <= 0) return 0;
  return betaQuantile(alpha, successes, trials - successes + 1);
}

/** One-sided Clopper–Pearson upper bound of a binomial proportion at confidence 1 − alpha. */
export function clopperPearsonUpper(successes: number, trials: number, alpha: number): number {
  if (trials <= 0) return 1;
  if (successes >= trials) return 1;
  return betaQuantile(1 - alpha, successes + 1, trials - successes);
}

/** Log-likelihood ratio of `successes` out of `trials` under p1 against p0 (Bernoulli). */
export function bernoulliLogLikelihoodRatio(successes: number, trials: number, p0: number, p1: number): number {
  const failures = trials - successes;
  return successes * Math.log(p1 / p0) + failures * Math.log((1 - p1) / (1 - p0));
}

/** Complementary error function. */
export function erfc(x: number): number {
  return jStat.erfc(x);
}

/** Inverse of the standard normal CDF. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  return jStat.normal.inv(p, 0, 1);
}

/** P(Z ≥ z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Probability mass function of Binomial(n, p) for k = 0..n, by recurrence from the mode-free end. */
function binomialPmf(n: number, p: number): number[] {
  const out = new Array<number>(n + 1).fill(0);
  if (p <= 0) {
    out[0] = 1;
    return out;
  }
  if (p >= 1) {
    out[n] = 1;
    return out;
  }
  const logQ = Math.log1p(-p);
  const logRatio = Math.log(p) - logQ;
  let logPmf = n * logQ;
  for (let k = 0; k <= n; k++) {
    out[k] = Math.exp(logPmf);
    logPmf += Math.log((n - k) / (k + 1)) + logRatio;
  }
  return out;
}

/**
 * P(S ≥ s) where S is a sum of independent Binomial(n_i, p_i) (Poisson-binomial across strata). Exact convolution
 * while the total trials are small; beyond `exactLimit` a normal approximation with continuity correction.
 */
export function binomialSumUpperTail(s: number, strata: readonly { n: number; p: number }[], exactLimit = 400): number {
  const total = strata.reduce((acc, x) => acc + x.n, 0);
  if (s <= 0) return 1;
  if (s > total) return 0;
  const first = strata[0];
  if (first && strata.every((x) => Math.abs(x.p - first.p) <= 1e-12 * Math.max(1e-300, first.p))) {
    return binomialUpperTail(s, total, first.p);
  }
  if (total <= exactLimit) {
    let dist = [1];
    for (const { n, p } of strata) {
      if (n === 0) continue;
      const pmf = binomialPmf(n, p);
      const next = new Array<number>(dist.length + n).fill(0);
      for (let i = 0; i < dist.length; i++) {
        const di = dist[i] as number;
        if (di === 0) continue;
        for (let j = 0; j <= n; j++) next[i + j] = (next[i + j] as number) + di * (pmf[j] as number);
      }
      dist = next;
    }
    let tail = 0;
    for (let k = dist.length - 1; k >= s; k--) tail += dist[k] as number;
    return Math.min(1, tail);
  }
  let mean = 0;
  let variance = 0;
  for (const { n, p } of strata) {
    mean += n * p;
    variance += n * p * (1 - p);
  }
  if (variance <= 0) return s <= mean ? 1 : 0;
  return normalUpperTail((s - 0.5 - mean) / Math.sqrt(variance));
}
