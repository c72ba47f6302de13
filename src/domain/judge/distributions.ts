/**
 * Exact distribution functions the judge needs, written out so the domain stays free of untyped dependencies:
 * log-gamma (Lanczos), the regularised incomplete beta function (continued fraction, modified Lentz), binomial tails,
 * beta quantiles by bisection and Clopper–Pearson bounds. Tests cross-check them against jstat.
 *
 * Tails are computed directly on the small side (never as 1 − big), so p-values down to 1e-300 keep their precision;
 * the failure-weight logic of the judge relies on that.
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0 (got ${x})`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS_G + 2; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** Continued fraction for I_x(a, b), valid and fast when x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const eps = 1e-15;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < eps) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) throw new RangeError(`regularizedBeta needs a, b > 0 (got ${a}, ${b})`);
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
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

/**
 * Complementary error function with relative error < 1.2e-7 everywhere (Chebyshev fit, Numerical Recipes' erfcc),
 * so tiny upper tails keep their precision.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
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
