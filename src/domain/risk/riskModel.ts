/**
 * The calibrated risk model: the whole score, fitted on real history (`npm run calibrate`, scripts/calibrate.ts;
 * evaluation in docs/calibration.md, explanation in docs/risk-model.md).
 *
 *   η = intercept + Σ cₖ·log1p(xₖ)                 size and spread of the change (non-negative cₖ)
 *   size points   = max(0, 70 + k·(η − logit ½))    k = points per unit of log-odds (20 points per doubling of the odds)
 *   factor points = k·max(w_r) over the measured path rules r that raised the factor (w_r ≥ 0)
 *   fix points    = k·w_fix when the change's text names a tracked issue (issueReference.ts), else 0 (w_fix ≥ 0,
 *                   fitted with the size features)
 *   score         = min(100, size points + Σ factor points + fix points), each term rounded to 0.1
 *
 * A path rule's weight w_r is ln of the lower 95 % bound of its observed / expected ratio of bug-inducing commits,
 * measured on projects the size part was not fitted on (0 when that bound is ≤ 1, or when the lift does not replicate
 * in at least two projects). So a factor adds points only in
 * proportion to the lift it showed out of sample; a factor raised only by words in a diff, a description, a tag or a
 * commit message (never measured) adds nothing and stays on the card as evidence.
 *
 * The level thresholds of the product (medium ≥ 30, high ≥ 50, critical ≥ 70) sit at the odds 1:4, 1:2 and 1:1 of a
 * later bug fix (probabilities 0.2, 1/3, 0.5) on this scale, so a level is a statement about a calibrated probability.
 *
 * w_fix is fitted on the dataset's Kamei `fix` label (the commit message names an issue key of the project's tracker);
 * the product's detector reads the same thing from the text it has (issueReference.ts).
 *
 * With no text at all (no git range, no pull request, no description) the feature is unknown and scores 0, like a text
 * that names no issue. Its expected contribution k·w_fix·P(fix) would be the calibrated choice, but then the first
 * message arriving without an issue key would lower the score (from the expected value to 0), and "adding a commit
 * message never lowers the score" is a property of the product (test/domain/risk/engine.test.ts). So the unknown
 * costs at most that expected contribution (docs/risk-model.md gives it in points), the card says the messages were
 * missing, and a production request with nothing else to rank is held at medium by the low-information rule
 * (engine.ts), which does not depend on this feature.
 *
 * Monotone: every xₖ never decreases when a change is added, every cₖ, w_r and w_fix is ≥ 0, a change only adds path
 * rules, a message only adds issue references, and max, sums, clamping and rounding are non-decreasing.
 */
import { z } from 'zod';
import { DomainError } from '../errors.js';
import type { DeploymentRequest } from '../model.js';
import { type ContentFactor, type FactorDetection, isNonShippingPath } from './factors.js';
import { type IssueReferenceState, issueReferenceState } from './issueReference.js';
import { roundTo, sigmoid } from './logistic.js';
import defaultParamsJson from './risk-model.v4.json' with { type: 'json' };
import { normalisePath, parentDirectory } from './spread.js';

/**
 * Size-and-spread features of the model, each log1p of a quantity that never decreases when a change is added (a file
 * change appended to the request, or lines added to one). All are read from the paths and per-file line counts alone.
 */
export const RISK_MODEL_FEATURES = [
  'linesAdded',
  'linesDeleted',
  'files',
  'shippingLinesChanged',
  'linesAddedToEditedFiles',
  'shippingLinesAdded',
  'rewrittenLines',
  'changedLineBits',
  'shippingDirectories',
] as const;
export type RiskModelFeature = (typeof RISK_MODEL_FEATURES)[number];

export const RISK_MODEL_FEATURE_LABELS: Readonly<Record<RiskModelFeature, string>> = {
  linesAdded: 'lines added',
  linesDeleted: 'lines deleted',
  files: 'files',
  shippingLinesChanged: 'lines in files that ship',
  linesAddedToEditedFiles: 'lines added to edited files',
  shippingLinesAdded: 'lines added to files that ship',
  rewrittenLines: 'lines rewritten in place',
  changedLineBits: 'spread of the changed lines across files',
  shippingDirectories: 'directories of files that ship',
};

export class RiskModelError extends DomainError {
  constructor(message: string) {
    super('risk_invalid_model', message);
    this.name = 'RiskModelError';
  }
}

/**
 * The raw (untransformed) feature values of a request.
 *
 * - shippingLinesAdded / shippingLinesChanged: lines of files that are not tests, docs, release notes or CI
 *   configuration (isNonShippingPath). Lines declared only as a total belong to no file and count as shipping
 *   (nothing says they do not).
 * - linesAddedToEditedFiles: lines added to files the change also deletes from (existing code being edited).
 * - rewrittenLines: Σ min(added, deleted) per file change, the lines replaced in place.
 * - changedLineBits: (Σ lₖ)·H = Σ lₖ·log₂(L/lₖ) over files, lₖ the changed lines of file k, L their sum: Kamei's
 *   entropy times the lines, i.e. the bits needed to say which file each changed line is in. Entropy itself is not
 *   monotone (a 100-line file added to two 1-line files lowers it from 1 bit to 0.16); this is: adding l lines to a
 *   file or a file of l lines raises every other term (L grows) and adds a non-negative one (sizeModel.ts).
 * - shippingDirectories: distinct parent directories of the files that ship (Kamei's nd without the test tree).
 */
export function rawRiskFeatures(request: DeploymentRequest): Record<RiskModelFeature, number> {
  const s = request.spread;
  let attributedAdded = 0;
  let attributedDeleted = 0;
  let nonShippingAdded = 0;
  let nonShippingDeleted = 0;
  let addedToEdited = 0;
  let rewritten = 0;
  const linesPerPath = new Map<string, number>();
  const shippingDirectories = new Set<string>();
  for (const c of request.changes) {
    attributedAdded += c.linesAdded;
    attributedDeleted += c.linesDeleted;
    if (c.linesDeleted > 0) addedToEdited += c.linesAdded;
    rewritten += Math.min(c.linesAdded, c.linesDeleted);
    const path = c.filePath.trim();
    if (path === '') continue;
    const normalised = normalisePath(path);
    linesPerPath.set(normalised, (linesPerPath.get(normalised) ?? 0) + c.linesAdded + c.linesDeleted);
    if (isNonShippingPath(path)) {
      nonShippingAdded += c.linesAdded;
      nonShippingDeleted += c.linesDeleted;
    } else {
      shippingDirectories.add(parentDirectory(normalised));
    }
  }
  // Lines declared only as a total belong to no file; they count as shipping (nothing says they do not).
  const unattributedAdded = Math.max(0, s.linesAdded - attributedAdded);
  const unattributedDeleted = Math.max(0, s.linesDeleted - attributedDeleted);
  const shippingLinesAdded = attributedAdded - nonShippingAdded + unattributedAdded;
  return {
    linesAdded: s.linesAdded,
    linesDeleted: s.linesDeleted,
    files: s.files,
    shippingLinesChanged: shippingLinesAdded + attributedDeleted - nonShippingDeleted + unattributedDeleted,
    linesAddedToEditedFiles: addedToEdited,
    shippingLinesAdded,
    rewrittenLines: rewritten,
    changedLineBits: changedLineBits(linesPerPath.values()),
    shippingDirectories: shippingDirectories.size,
  };
}

/** Σ lₖ·log₂(L/lₖ): the lines times the Shannon entropy of their spread across files (0 for one file). */
export function changedLineBits(linesPerFile: Iterable<number>): number {
  const lines = [...linesPerFile].filter((l) => l > 0);
  const total = lines.reduce((sum, l) => sum + l, 0);
  let bits = 0;
  for (const l of lines) bits += l * Math.log2(total / l);
  return bits > 1e-9 ? bits : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters (the shape of risk-model.v4.json)

const finite = z.number().finite();
const nonNegative = finite.min(0);

const pathRuleSchema = z
  .object({
    /** `path:<rule label>` or `word:<phrase>` (FactorDetection.pathRules). */
    id: z.string().regex(/^(?:path|word):./),
    factor: z.string(),
    /** Commits of the data the rule fired on (files that ship only). */
    commits: z.number().int().min(0),
    /** Bug-inducing commits among them, and the number expected from their size (out-of-project fits). */
    observed: z.number().int().min(0),
    expected: nonNegative,
    ratio: nonNegative,
    lowerBound: nonNegative,
    /** Held-out projects where it fired on enough commits, and those with observed > expected (replication). */
    projects: z.number().int().min(0),
    projectsWithLift: z.number().int().min(0),
    /** ln(max(1, lowerBound)) when the lift replicates, else 0: added to the log-odds when the rule fires. */
    coefficient: nonNegative,
  })
  .strict();

export const riskModelParamsSchema = z
  .object({
    modelVersion: z.string().min(1),
    description: z.string(),
    generatedBy: z.string(),
    label: z.string(),
    features: z
      .array(
        z
          .object({
            name: z.enum(RISK_MODEL_FEATURES),
            transform: z.literal('log1p'),
            coefficient: nonNegative,
            standardizedCoefficient: nonNegative,
          })
          .strict(),
      )
      .min(1),
    intercept: finite,
    pathRules: z.array(pathRuleSchema),
    issueReference: z
      .object({
        /** The dataset column the weight was fitted on (Kamei's `fix`). */
        trainedOn: z.literal('fix'),
        coefficient: nonNegative,
        standardizedCoefficient: nonNegative,
        /** Share of the training commits labelled fix (what an unknown would be on average; the card cites it). */
        trainingShare: nonNegative.max(1),
      })
      .strict(),
    points: z
      .object({
        /** Score of η = logit ½ (odds 1:1): the critical threshold. */
        scoreAtEvenOdds: z.literal(70),
        pointsPerLogOdds: z.number().positive().finite(),
        decimals: z.number().int().min(0).max(3),
      })
      .strict(),
    fit: z
      .object({
        method: z.string(),
        l2: nonNegative,
        iterations: z.number().int().min(0),
        converged: z.boolean(),
        meanLogLoss: nonNegative,
        ruleWeights: z.string(),
      })
      .strict(),
    trainingData: z
      .object({
        source: z.string(),
        projects: z.array(
          z
            .object({ name: z.string(), commits: z.number().int().positive(), bugInducing: z.number().int().min(0) })
            .strict(),
        ),
        commits: z.number().int().positive(),
        bugInducing: z.number().int().min(0),
      })
      .strict(),
  })
  .strict()
  .superRefine((params, ctx) => {
    const names = params.features.map((f) => f.name);
    if (new Set(names).size !== names.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['features'], message: 'lists a feature twice' });
    }
    const ids = params.pathRules.map((r) => r.id);
    if (new Set(ids).size !== ids.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['pathRules'], message: 'lists a rule twice' });
    }
  });

export type RiskModelParams = z.infer<typeof riskModelParamsSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Scoring

export interface SizeDriver {
  feature: RiskModelFeature;
  label: string;
  rawValue: number;
}

export interface FactorScore {
  factor: ContentFactor;
  points: number;
  /** The measured rule that gave the points (the strongest one), when any did. */
  rule?: { id: string; ratio: number; lowerBound: number };
}

export interface IssueReferenceScore {
  state: IssueReferenceState;
  points: number;
}

export interface ModelScore {
  score: number;
  /** Fitted probability of a later bug fix from size alone (the label of the data). */
  sizeProbability: number;
  /** Fitted probability including the measured factors. */
  probability: number;
  sizePoints: number;
  factors: FactorScore[];
  issueReference: IssueReferenceScore;
  /** Size features that carry weight, largest contribution first. */
  drivers: SizeDriver[];
}

export interface RiskModel {
  readonly params: RiskModelParams;
  score(request: DeploymentRequest, detections: readonly FactorDetection[]): ModelScore;
}

export function createRiskModel(rawParams: unknown): RiskModel {
  const parsed = riskModelParamsSchema.safeParse(rawParams);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '$';
    throw new RiskModelError(`risk model parameters: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const params = parsed.data;
  const ruleWeights = new Map(params.pathRules.filter((r) => r.coefficient > 0).map((r) => [r.id, r]));
  const { pointsPerLogOdds: k, scoreAtEvenOdds, decimals } = params.points;

  const score = (request: DeploymentRequest, detections: readonly FactorDetection[]): ModelScore => {
    const raw = rawRiskFeatures(request);
    let eta = params.intercept;
    const parts: { feature: RiskModelFeature; part: number }[] = [];
    for (const f of params.features) {
      const part = f.coefficient * Math.log1p(raw[f.name]);
      eta += part;
      if (part > 0) parts.push({ feature: f.name, part });
    }
    const sizePoints = roundTo(Math.max(0, scoreAtEvenOdds + k * eta), decimals);
    let factorLogOdds = 0;
    const factors: FactorScore[] = detections.map((d) => {
      let best: RiskModelParams['pathRules'][number] | undefined;
      for (const id of d.pathRules) {
        const rule = ruleWeights.get(id);
        if (rule && (!best || rule.coefficient > best.coefficient)) best = rule;
      }
      if (!best) return { factor: d.factor, points: 0 };
      factorLogOdds += best.coefficient;
      return {
        factor: d.factor,
        points: roundTo(k * best.coefficient, decimals),
        rule: { id: best.id, ratio: best.ratio, lowerBound: best.lowerBound },
      };
    });
    const state = issueReferenceState(request);
    const fix = params.issueReference;
    // Unknown scores as "names no issue": see the header for why (monotone in messages, low-information rule).
    const fixLogOdds = state.kind === 'references' ? fix.coefficient : 0;
    const issueReference = { state, points: roundTo(k * fixLogOdds, decimals) };
    const total = factors.reduce((sum, f) => sum + f.points, sizePoints + issueReference.points);
    parts.sort((a, b) => b.part - a.part);
    return {
      score: roundTo(Math.min(100, total), decimals),
      sizeProbability: sigmoid(eta),
      probability: sigmoid(eta + factorLogOdds + fixLogOdds),
      sizePoints,
      factors,
      issueReference,
      drivers: parts.map((p) => ({
        feature: p.feature,
        label: RISK_MODEL_FEATURE_LABELS[p.feature],
        rawValue: raw[p.feature],
      })),
    };
  };
  return { params, score };
}

let defaultModel: RiskModel | undefined;

/** The committed model (risk-model.v4.json), validated on first use. */
export function defaultRiskModel(): RiskModel {
  defaultModel ??= createRiskModel(defaultParamsJson);
  return defaultModel;
}

/** The probability a score stands for (the inverse of the size-point mapping, before clamping). */
export function probabilityForScore(score: number, params: RiskModelParams = defaultRiskModel().params): number {
  return sigmoid((score - params.points.scoreAtEvenOdds) / params.points.pointsPerLogOdds);
}
