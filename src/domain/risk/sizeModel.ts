/**
 * The size-only model v1: the previous size-and-spread term of the risk score, kept as the baseline of
 * docs/calibration.md (appendix) and for its card helpers (summarizeSpread, formatCount). The product now scores with
 * the whole calibrated model in riskModel.ts (risk-model.v4.json).
 *
 * A logistic regression on log-scaled change metrics (Kamei et al. 2013), fitted by `npm run calibrate`
 * (scripts/calibrate.ts) on about 72,000 real commits of five projects and stored as versioned data in
 * `size-model.v1.json`. The evaluation the script printed is docs/calibration.md.
 *
 * Monotone by construction: every feature is log1p of a quantity that never decreases when a file change is added
 * to a deployment (or lines are added to a file already in it), and every coefficient is ≥ 0 (checked when the
 * parameters are loaded). The points are a clamped, rounded, increasing function of the linear predictor, so adding
 * a change can never lower them.
 *
 * Why not entropy itself: the Shannon entropy of the changed lines across files can drop when a file is added
 * (two 1-line files give 1 bit; adding a 100-line file gives ≈ 0.16 bits), and so can entropy × log(files)
 * (which is just the entropy again when the entropy is normalised by log₂ files). The spread feature offered to the
 * model is instead `changedLineBits` = (lines added + deleted) × entropy = Σₖ lₖ·log₂(L/lₖ): the number of bits
 * needed to say which file each changed line is in. Its partial derivative in any lₖ is log₂(L/lₖ) ≥ 0, and adding a
 * file with l lines adds l·log₂(L'/l) ≥ 0 while every other term grows because L grows, so it never decreases.
 */
import { z } from 'zod';
import { DomainError } from '../errors.js';
import type { ChangeSpread } from '../model.js';
import { roundTo, sigmoid } from './logistic.js';
import defaultParamsJson from './size-model.v1.json' with { type: 'json' };

export { computeSpreadFromFiles } from './spread.js';

/**
 * The Kamei change metrics of a deployment. `entropy` is the Shannon entropy in bits (NOT normalised by log₂ files)
 * of the changed lines (added + deleted) across files: the `entrophy` column of the calibration data stores that
 * quantity (see the extraction code of the ISSTA'21 artifact, and 3-file commits with values up to log₂3 ≈ 1.585).
 */
export type ChangeSpreadMetrics = ChangeSpread;

/** Features the calibration may use, in a fixed order. Each is log1p of the raw quantity named in the comment. */
export const SIZE_FEATURES = [
  'linesAdded', // la
  'linesDeleted', // ld
  'files', // nf
  'directories', // nd
  'subsystems', // ns
  'changedLineBits', // (la + ld) × entropy
] as const;
export type SizeFeature = (typeof SIZE_FEATURES)[number];

export const SIZE_FEATURE_LABELS: Readonly<Record<SizeFeature, string>> = {
  linesAdded: 'lines added',
  linesDeleted: 'lines deleted',
  files: 'files',
  directories: 'directories',
  subsystems: 'subsystems',
  changedLineBits: 'spread of the changed lines across files',
};

export class SizeModelError extends DomainError {
  constructor(code: 'risk_invalid_spread_metrics' | 'risk_invalid_size_model', message: string) {
    super(code, message);
    this.name = 'SizeModelError';
  }
}

/** The untransformed value of a feature. */
export function rawFeatureValue(feature: SizeFeature, metrics: ChangeSpreadMetrics): number {
  switch (feature) {
    case 'linesAdded':
      return metrics.linesAdded;
    case 'linesDeleted':
      return metrics.linesDeleted;
    case 'files':
      return metrics.files;
    case 'directories':
      return metrics.directories;
    case 'subsystems':
      return metrics.subsystems;
    case 'changedLineBits':
      return (metrics.linesAdded + metrics.linesDeleted) * metrics.entropy;
  }
}

/** The value the model sees: log1p of the raw value (every stored feature uses this transform). */
export function featureValue(feature: SizeFeature, metrics: ChangeSpreadMetrics): number {
  return Math.log1p(rawFeatureValue(feature, metrics));
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters (the shape of size-model.v1.json)

const finite = z.number().finite();
const nonNegative = finite.min(0);

const metricsSchema = z
  .object({
    linesAdded: nonNegative,
    linesDeleted: nonNegative,
    files: nonNegative,
    directories: nonNegative,
    subsystems: nonNegative,
    entropy: nonNegative,
  })
  .strict();

const featureParamsSchema = z
  .object({
    name: z.enum(SIZE_FEATURES),
    /** The column of the calibration data the raw value comes from. */
    source: z.string(),
    transform: z.literal('log1p'),
    /** Weight on log1p(raw value); ≥ 0 is what makes the score monotone. */
    coefficient: nonNegative,
    /** The same weight per standard deviation of the training data (comparable across features). */
    standardizedCoefficient: nonNegative,
    trainingMean: finite,
    trainingSd: nonNegative,
  })
  .strict();

const projectSummarySchema = z
  .object({
    name: z.string(),
    commits: z.number().int().positive(),
    bugInducing: z.number().int().min(0),
    firstCommitDate: z.string(),
    lastCommitDate: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export const sizeModelParamsSchema = z
  .object({
    modelVersion: z.string().min(1),
    description: z.string(),
    generatedBy: z.string(),
    label: z.string(),
    features: z.array(featureParamsSchema).min(1),
    intercept: finite,
    fit: z
      .object({
        method: z.string(),
        l2: nonNegative,
        weighting: z.string(),
        iterations: z.number().int().min(0),
        converged: z.boolean(),
        meanLogLoss: nonNegative,
      })
      .strict(),
    selection: z
      .object({
        procedure: z.string(),
        candidatePool: z.array(z.enum(SIZE_FEATURES)),
        candidatesEvaluated: z.number().int().positive(),
        chosen: z.array(z.enum(SIZE_FEATURES)),
        leaveOneProjectOutAucGain: z.record(z.string(), finite),
      })
      .strict(),
    trainingData: z
      .object({
        source: z.string(),
        projects: z.array(projectSummarySchema).min(1),
        commits: z.number().int().positive(),
        bugInducing: z.number().int().min(0),
      })
      .strict(),
    seed: z.number().int(),
    points: z
      .object({
        maxPoints: z.number().positive().finite(),
        decimals: z.number().int().min(0).max(3),
        mapping: z.string(),
        referenceChange: metricsSchema,
        referenceLinearPredictor: finite,
        saturationQuantile: z.number().gt(0).lt(1),
        saturationLinearPredictor: finite,
        pointsPerDoublingOfOdds: z.number().positive().finite(),
      })
      .strict(),
  })
  .strict()
  .superRefine((params, ctx) => {
    const names = params.features.map((f) => f.name);
    if (new Set(names).size !== names.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['features'], message: 'lists a feature twice' });
    }
    if (params.points.saturationLinearPredictor <= params.points.referenceLinearPredictor) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['points', 'saturationLinearPredictor'],
        message: 'must be greater than referenceLinearPredictor',
      });
    }
  });

export type SizeModelParams = z.infer<typeof sizeModelParamsSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Scoring

export interface SizeRiskScore {
  /** 0…maxPoints (35 in v1), rounded to `decimals` (1 in v1). */
  points: number;
  /** Fitted probability that a later bug fix is traced back to a change like this one (the data's label). */
  probability: number;
  linearPredictor: number;
}

export interface SizeRiskDriver {
  feature: SizeFeature;
  label: string;
  rawValue: number;
  /** This feature's share of the points (shares are proportional to the feature's part of the linear predictor). */
  points: number;
}

export interface SizeRiskExplanation extends SizeRiskScore {
  /** e.g. "1,240 lines (+1,000 −240) across 14 files in 3 subsystems". */
  summary: string;
  /** Features that raised the score above the reference change, largest first. */
  drivers: SizeRiskDriver[];
}

export interface SizeModel {
  readonly params: SizeModelParams;
  score(metrics: ChangeSpreadMetrics): SizeRiskScore;
  explain(metrics: ChangeSpreadMetrics): SizeRiskExplanation;
}

/** Validates parameters (e.g. a freshly fitted candidate) and returns a model that scores with them. */
export function createSizeModel(rawParams: unknown): SizeModel {
  const parsed = sizeModelParamsSchema.safeParse(rawParams);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '$';
    throw new SizeModelError(
      'risk_invalid_size_model',
      `size model parameters: ${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const params = parsed.data;
  const reference = linearPredictor(params, params.points.referenceChange);
  if (Math.abs(reference - params.points.referenceLinearPredictor) > 1e-6) {
    throw new SizeModelError(
      'risk_invalid_size_model',
      `size model parameters: points.referenceLinearPredictor is ${params.points.referenceLinearPredictor} but the coefficients give ${reference} for the reference change`,
    );
  }

  const score = (metrics: ChangeSpreadMetrics): SizeRiskScore => {
    assertMetrics(metrics);
    const eta = linearPredictor(params, metrics);
    // Kept strictly inside (0, 1) even for absurdly large inputs, where the float sigmoid would round to 1.
    const probability = Math.min(1 - 1e-12, Math.max(1e-12, sigmoid(eta)));
    return { points: pointsFor(params, eta), probability, linearPredictor: eta };
  };

  const explain = (metrics: ChangeSpreadMetrics): SizeRiskExplanation => {
    const result = score(metrics);
    return { ...result, summary: summarizeSpread(metrics), drivers: driversFor(params, metrics, result.points) };
  };

  return { params, score, explain };
}

let defaultModel: SizeModel | undefined;

/** The committed model (size-model.v1.json), validated on first use. */
export function defaultSizeModel(): SizeModel {
  defaultModel ??= createSizeModel(defaultParamsJson);
  return defaultModel;
}

export function scoreSizeRisk(metrics: ChangeSpreadMetrics, model: SizeModel = defaultSizeModel()): SizeRiskScore {
  return model.score(metrics);
}

export function explainSizeRisk(
  metrics: ChangeSpreadMetrics,
  model: SizeModel = defaultSizeModel(),
): SizeRiskExplanation {
  return model.explain(metrics);
}

export function linearPredictor(params: Pick<SizeModelParams, 'features' | 'intercept'>, m: ChangeSpreadMetrics) {
  let eta = params.intercept;
  for (const feature of params.features) eta += feature.coefficient * featureValue(feature.name, m);
  return eta;
}

/** Increasing in the linear predictor: a linear ramp from the reference change (0) to the saturation point (max). */
export function pointsFor(params: Pick<SizeModelParams, 'points'>, eta: number): number {
  const { maxPoints, decimals, referenceLinearPredictor: low, saturationLinearPredictor: high } = params.points;
  const ramp = (maxPoints * (eta - low)) / (high - low);
  return roundTo(Math.min(maxPoints, Math.max(0, ramp)), decimals);
}

function driversFor(params: SizeModelParams, metrics: ChangeSpreadMetrics, points: number): SizeRiskDriver[] {
  const reference = params.points.referenceChange;
  const parts = params.features
    .map((f) => ({
      feature: f.name,
      part: f.coefficient * (featureValue(f.name, metrics) - featureValue(f.name, reference)),
    }))
    .filter((p) => p.part > 0);
  const total = parts.reduce((sum, p) => sum + p.part, 0);
  if (total <= 0 || points <= 0) return [];
  return parts
    .map((p) => ({
      feature: p.feature,
      label: SIZE_FEATURE_LABELS[p.feature],
      rawValue: rawFeatureValue(p.feature, metrics),
      points: roundTo((points * p.part) / total, params.points.decimals),
    }))
    .sort((a, b) => b.points - a.points || SIZE_FEATURES.indexOf(a.feature) - SIZE_FEATURES.indexOf(b.feature));
}

/** "1,240 lines (+1,000 −240) across 14 files in 3 subsystems". */
export function summarizeSpread(m: ChangeSpreadMetrics): string {
  const lines = m.linesAdded + m.linesDeleted;
  const split = lines > 0 ? ` (+${formatCount(m.linesAdded)} −${formatCount(m.linesDeleted)})` : '';
  return (
    `${plural(lines, 'line')}${split} across ${plural(m.files, 'file')} ` + `in ${plural(m.subsystems, 'subsystem')}`
  );
}

function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** Thousands separators without Intl, so the text does not depend on the host's locale data. */
export function formatCount(n: number): string {
  const digits = String(Math.round(Math.abs(n)));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}

function assertMetrics(m: ChangeSpreadMetrics): void {
  for (const key of ['linesAdded', 'linesDeleted', 'files', 'directories', 'subsystems', 'entropy'] as const) {
    const value: unknown = m[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new SizeModelError(
        'risk_invalid_spread_metrics',
        `change spread metrics: ${key} must be a finite non-negative number (got ${String(value)})`,
      );
    }
  }
}
