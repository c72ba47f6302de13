/**
 * Calibrates and evaluates the whole risk score (src/domain/risk/riskModel.ts) on real history: the five projects'
 * `<project>_commit_files.csv` (paths and line counts of every commit) beside their SZZ labels.
 *
 * Every commit becomes a DeploymentRequest (its files, their lines), runs through the product's own factor detection,
 * and the full shipped engine (`assessRisk`) scores the held-out commits, so the evaluation measures what ships.
 *
 * Fit, for a set of training projects:
 *   1. the size part: a non-negative logistic regression on log1p features (calibrate.ts fitLogistic);
 *   2. each path rule's lift: every training project in turn is held out, the size part is refitted on the others and
 *      predicts it; observed / expected bug-inducing commits among the commits the rule fires on, summed over the
 *      held-out projects. Its weight is ln of the lower 95 % bound of that ratio, 0 when the bound is ≤ 1.
 *   3. Kamei's `fix` (0/1: the commit message named an issue of the project's tracker) is fitted with the size part,
 *      non-negative; the product reads the same signal from commit messages (src/domain/risk/issueReference.ts).
 * Evaluation: the whole fit without the project (leave-one-project-out), scored on the project's last 20 % by date,
 * twice: with the `fix` label given to the product as a message it recognises, and with no message at all (unknown).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type DeploymentRequest,
  type FileChange,
  levelForScore,
  RISK_LEVELS,
  type RiskLevel,
} from '../src/domain/model.js';
import { assessRisk } from '../src/domain/risk/engine.js';
import { detectFactors } from '../src/domain/risk/factors.js';
import {
  createRiskModel,
  RISK_MODEL_FEATURE_LABELS,
  RISK_MODEL_FEATURES,
  type RiskModelFeature,
  type RiskModelParams,
  rawRiskFeatures,
} from '../src/domain/risk/riskModel.js';
import { formatCount } from '../src/domain/risk/sizeModel.js';
import { computeSpreadFromFiles } from '../src/domain/risk/spread.js';
import {
  baseRateShift,
  CalibrationError,
  fitLogistic,
  forEachStratifiedResample,
  type LabelledColumns,
  type LogisticFit,
  type Project,
  predict,
  prepareWeightedAuc,
  rocAuc,
  SETTINGS,
  seededRandom,
  timeSplit,
} from './calibrate.js';

export const RISK_SETTINGS = {
  modelVersion: 'risk-model.v4',
  l2: 1e-3,
  /** z of the one-sided lower bound of a rule's observed / expected ratio (normal approximation to Poisson). */
  lowerBoundZ: 1.96,
  /**
   * A rule earns points only when its lift replicates: observed > expected in at least this many held-out projects
   * where it fired on at least `replicationMinCommits` commits. One repository's habit (vscode-go's package.json,
   * Gerrit's settings screen) is not a rule about paths.
   */
  replicationProjects: 2,
  replicationMinCommits: 20,
  /** Points per unit of log-odds: 20 points per doubling, so 30 / 50 / 70 sit at odds 1:4, 1:2, 1:1. */
  pointsPerLogOdds: 40 / Math.log(4),
  effortShare: 0.2,
  highCutoff: 50,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Data: commits as deployment requests

export interface PathCommit {
  id: string;
  date: number;
  bug: 0 | 1;
  /** Kamei's `fix` label. */
  fix: 0 | 1;
  /** The commit as the product receives it, with a message standing for its `fix` label (messageForFixLabel). */
  request: DeploymentRequest;
  /** Model inputs, log1p-transformed in the columns. */
  raw: Record<RiskModelFeature, number>;
  /** Measured path rules that fire on the commit (union over its factors). */
  rules: string[];
  /** Baselines from the Kamei metrics of the benchmark: lines added, churn (added + deleted), files. */
  la: number;
  churn: number;
  nf: number;
  /** Lines added and deleted by git numstat (the files table). */
  changedLines: number;
}

export interface PathProject {
  name: string;
  /** Commits with files, sorted by date. */
  commits: PathCommit[];
  /** Test split: the last 20 % by date of all the project's commits, restricted to commits with files. */
  test: PathCommit[];
  totalCommits: number;
  unresolved: { commits: number; test: number };
}

interface FileRow {
  repo: string;
  path: string;
  added: number;
  deleted: number;
}

export { baseRateShift };

/** `<project>_commit_files.csv`: commit_id,repo,path,added,deleted; `-` for binary files (counted as 0 lines). */
export function parseCommitFiles(text: string, source: string): Map<string, FileRow[]> {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== 'commit_id,repo,path,added,deleted') {
    throw new CalibrationError(
      'csv_missing_column',
      `${source}: expected the header commit_id,repo,path,added,deleted`,
    );
  }
  const out = new Map<string, FileRow[]>();
  for (let row = 1; row < lines.length; row++) {
    const line = lines[row] ?? '';
    // Paths may contain commas: the id and repo come first, the two counts last.
    const first = line.indexOf(',');
    const second = line.indexOf(',', first + 1);
    const last = line.lastIndexOf(',');
    const beforeLast = line.lastIndexOf(',', last - 1);
    if (first < 0 || second < 0 || beforeLast <= second) {
      throw new CalibrationError('csv_syntax', `${source} line ${row + 1}: expected 5 fields`);
    }
    const count = (cell: string): number => {
      if (cell === '-') return 0;
      const n = Number(cell);
      if (!Number.isInteger(n) || n < 0) {
        throw new CalibrationError('csv_value', `${source} line ${row + 1}: line count "${cell}" is not a count or -`);
      }
      return n;
    };
    const id = line.slice(0, first);
    const file: FileRow = {
      repo: line.slice(first + 1, second),
      path: line.slice(second + 1, beforeLast),
      added: count(line.slice(beforeLast + 1, last)),
      deleted: count(line.slice(last + 1)),
    };
    const rows = out.get(id);
    if (rows) rows.push(file);
    else out.set(id, [file]);
  }
  return out;
}

/**
 * The data has no commit messages, only Kamei's `fix` label. To score through the product's own detector, each commit
 * carries a message that stands for its label: one naming an issue (a Gerrit footer) when fix = 1, one naming none
 * when fix = 0.
 */
export function messageForFixLabel(fix: 0 | 1): string {
  return fix === 1
    ? 'Stands for a message naming a tracked issue (fix = 1)\n\nBug: 1'
    : 'Stands for a message naming no tracked issue (fix = 0)';
}

/** A commit as the product would receive it from a git range: its files with their lines and its messages. */
export function requestForCommit(
  id: string,
  files: readonly FileRow[],
  commitMessages: string[] = [],
): DeploymentRequest {
  const changes: FileChange[] = files.map((f) => ({
    filePath: f.path,
    changeType: 'modify',
    linesAdded: f.added,
    linesDeleted: f.deleted,
    linesChanged: f.added + f.deleted,
    riskTags: [],
    description: '',
  }));
  const spread = computeSpreadFromFiles(
    files.map((f) => ({ path: f.path, linesAdded: f.added, linesDeleted: f.deleted })),
  );
  return {
    deploymentId: id,
    serviceName: files[0]?.repo ?? 'service',
    environment: 'production',
    version: id.slice(0, 12),
    changes,
    commitMessages,
    totalLinesChanged: spread.linesAdded + spread.linesDeleted,
    spread,
    slo: {
      currentErrorRatePercent: 0,
      currentP95LatencyMs: 0,
      currentP99LatencyMs: 0,
      targetErrorRatePercent: 1,
      targetP95LatencyMs: 1000,
      targetP99LatencyMs: 2000,
      currentQps: 0,
      peakQps: 0,
    },
    ownerTeam: '',
    reviewers: [],
    rollbackCapability: true,
    dependencies: [],
    target: { kind: 'kubernetes', namespace: 'default', resourceName: files[0]?.repo ?? 'service' },
    source: { kind: 'git', ref: id },
  };
}

export function loadPathProjects(dataDir: string, projects: readonly Project[]): PathProject[] {
  return projects.map((project) => {
    const file = path.join(dataDir, `${project.name}_commit_files.csv`);
    if (!existsSync(file)) {
      throw new CalibrationError('data_missing', `${file} does not exist (the path-level data of the shared set)`);
    }
    const files = parseCommitFiles(readFileSync(file, 'utf8'), path.basename(file));
    const { test: testKamei } = timeSplit(project.commits);
    const testIds = new Set(testKamei.map((c) => c.id));
    const commits: PathCommit[] = [];
    for (const c of project.commits) {
      const rows = files.get(c.id);
      if (!rows) continue;
      if (c.fix === undefined) {
        throw new CalibrationError(
          'csv_missing_column',
          `${project.name}_k_feature.csv: the header has no column "fix"`,
        );
      }
      const request = requestForCommit(c.id, rows, [messageForFixLabel(c.fix)]);
      const rules = new Set<string>();
      for (const d of detectFactors(request, { maxEvidence: 1 })) for (const r of d.pathRules) rules.add(r);
      commits.push({
        id: c.id,
        date: c.date,
        bug: c.bug,
        fix: c.fix,
        request,
        raw: rawRiskFeatures(request),
        rules: [...rules],
        la: c.metrics.linesAdded,
        churn: c.metrics.linesAdded + c.metrics.linesDeleted,
        nf: c.metrics.files,
        changedLines: request.spread.linesAdded + request.spread.linesDeleted,
      });
    }
    const test = commits.filter((c) => testIds.has(c.id));
    return {
      name: project.name,
      commits,
      test,
      totalCommits: project.commits.length,
      unresolved: { commits: project.commits.length - commits.length, test: testKamei.length - test.length },
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Fit

/** The fitted inputs: the size features (log1p) and Kamei's `fix` (0/1, as is). */
const FIT_FEATURES = [...RISK_MODEL_FEATURES, 'fix'] as const;
type FitFeature = (typeof FIT_FEATURES)[number];

function columnsOf(commits: readonly PathCommit[]): LabelledColumns<FitFeature> {
  const n = commits.length;
  const columns = Object.fromEntries(FIT_FEATURES.map((f) => [f, new Float64Array(n)])) as Record<
    FitFeature,
    Float64Array
  >;
  const labels = new Uint8Array(n);
  commits.forEach((c, i) => {
    for (const f of RISK_MODEL_FEATURES) columns[f][i] = Math.log1p(c.raw[f]);
    columns.fix[i] = c.fix;
    labels[i] = c.bug;
  });
  return { n, columns, labels };
}

export interface RuleStat {
  id: string;
  factor: string;
  commits: number;
  observed: number;
  expected: number;
  ratio: number;
  lowerBound: number;
  /** Held-out projects where the rule fired on enough commits, and those among them with observed > expected. */
  projects: number;
  projectsWithLift: number;
  coefficient: number;
}

/** Fits by training-project set (the inner fits of one fold recur in the others). */
export class RiskFitCache {
  private readonly fits = new Map<string, LogisticFit<FitFeature>>();
  fit(projects: readonly PathProject[]): LogisticFit<FitFeature> {
    const key = projects.map((p) => p.name).join('+');
    let fit = this.fits.get(key);
    if (!fit) {
      const commits = projects.flatMap((p) => p.commits);
      // One intercept per training project while fitting: the slopes learn how risk rises within a project, not
      // how the projects' base rates (6 % to 43 %) differ (calibrate.ts fitLogistic, `strata`).
      const strata = Uint8Array.from(projects.flatMap((p, index) => p.commits.map(() => index)));
      fit = fitLogistic(columnsOf(commits), FIT_FEATURES, { l2: RISK_SETTINGS.l2, strata });
      this.fits.set(key, fit);
    }
    return fit;
  }
}

/** Which factor each rule id belongs to, read from the detections (a rule raises exactly one factor). */
function ruleFactors(projects: readonly PathProject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of projects) {
    for (const c of p.commits) {
      if (c.rules.length === 0) continue;
      for (const d of detectFactors(c.request, { maxEvidence: 1 })) for (const r of d.pathRules) out.set(r, d.factor);
    }
  }
  return out;
}

/** Observed / expected per rule, each training project predicted by the size part fitted on the others. */
export function measureRules(training: readonly PathProject[], cache: RiskFitCache): RuleStat[] {
  if (training.length < 2) throw new CalibrationError('selection_projects', 'rule lifts need at least two projects');
  const stats = new Map<string, { commits: number; observed: number; expected: number }>();
  const perProject = new Map<string, { projects: number; withLift: number }>();
  for (const heldOut of training) {
    const here = new Map<string, { commits: number; observed: number; expected: number }>();
    const fit = cache.fit(training.filter((p) => p !== heldOut));
    const predicted = predict(fit, columnsOf(heldOut.commits));
    // Projects differ in base rate (6 % to 43 % bug-inducing): without the shift to the held-out project's rate, a
    // rule that fires mostly in a high-rate project would show "lift" that is only that project's rate. With it,
    // observed / expected compares commits of the same project and size.
    const shift = baseRateShift(
      predicted,
      heldOut.commits.reduce((s, c) => s + c.bug, 0),
    );
    heldOut.commits.forEach((c, i) => {
      const p = 1 / (1 + Math.exp(-((predicted[i] ?? 0) + shift)));
      for (const rule of c.rules) {
        for (const table of [stats, here]) {
          const s = table.get(rule) ?? { commits: 0, observed: 0, expected: 0 };
          s.commits++;
          s.observed += c.bug;
          s.expected += p;
          table.set(rule, s);
        }
      }
    });
    for (const [rule, s] of here) {
      if (s.commits < RISK_SETTINGS.replicationMinCommits) continue;
      const r = perProject.get(rule) ?? { projects: 0, withLift: 0 };
      r.projects++;
      if (s.observed > s.expected) r.withLift++;
      perProject.set(rule, r);
    }
  }
  const factors = ruleFactors(training);
  return [...stats.entries()]
    .map(([id, s]) => {
      const ratio = s.expected > 0 ? s.observed / s.expected : 0;
      const lowerBound =
        s.expected > 0 ? Math.max(0, (s.observed - RISK_SETTINGS.lowerBoundZ * Math.sqrt(s.observed)) / s.expected) : 0;
      const bound = sig(lowerBound, 4);
      const replication = perProject.get(id) ?? { projects: 0, withLift: 0 };
      const replicated = replication.withLift >= RISK_SETTINGS.replicationProjects;
      return {
        id,
        factor: factors.get(id) ?? '',
        commits: s.commits,
        observed: s.observed,
        expected: sig(s.expected, 6),
        ratio: sig(ratio, 4),
        lowerBound: bound,
        projects: replication.projects,
        projectsWithLift: replication.withLift,
        coefficient: replicated ? sig(Math.log(Math.max(1, bound)), 6) : 0,
      };
    })
    .sort((a, b) => b.coefficient - a.coefficient || b.commits - a.commits || a.id.localeCompare(b.id));
}

export function fitRiskModel(training: readonly PathProject[], cache: RiskFitCache = new RiskFitCache()) {
  const fit = cache.fit(training);
  const rules = measureRules(training, cache);
  const commits = training.reduce((s, p) => s + p.commits.length, 0);
  const bugInducing = training.reduce((s, p) => s + p.commits.reduce((b, c) => b + c.bug, 0), 0);
  const fixes = training.reduce((s, p) => s + p.commits.reduce((b, c) => b + c.fix, 0), 0);
  const fixIndex = fit.features.indexOf('fix');
  const params: RiskModelParams = {
    modelVersion: RISK_SETTINGS.modelVersion,
    description:
      "The whole deployment risk score: a non-negative logistic regression on log1p size features and on Kamei's fix label (the product detects it as an issue reference in the change's messages), plus, per path rule, ln of the lower 95 % bound of its observed / expected bug-inducing ratio measured on projects the size part was not fitted on (0 when the bound is at most 1).",
    generatedBy: 'scripts/calibrate.ts (npm run calibrate); evaluation in docs/calibration.md',
    label:
      'bug-inducing commit: a later bug fix was traced back to lines of this commit (SZZ), not an incident caused by a deployment',
    features: RISK_MODEL_FEATURES.map((name) => {
      const j = fit.features.indexOf(name);
      return {
        name,
        transform: 'log1p' as const,
        coefficient: sig(fit.coefficients[j] ?? 0),
        standardizedCoefficient: sig(fit.standardized[j] ?? 0),
      };
    }),
    intercept: sig(fit.intercept),
    // Only rules seen on at least one commit are kept; those without lift stay listed with coefficient 0 (the table
    // docs/calibration.md shows), so the file records why a rule adds nothing.
    pathRules: rules,
    issueReference: {
      trainedOn: 'fix',
      coefficient: sig(fit.coefficients[fixIndex] ?? 0),
      standardizedCoefficient: sig(fit.standardized[fixIndex] ?? 0),
      trainingShare: sig(fixes / commits, 6),
    },
    points: { scoreAtEvenOdds: 70, pointsPerLogOdds: sig(RISK_SETTINGS.pointsPerLogOdds), decimals: 1 },
    fit: {
      method:
        'projected Newton on the L2-regularised log-loss with one intercept per training project, coefficients constrained ≥ 0; the shipped intercept makes the expected count of bug-inducing commits of the pooled data equal the observed one (scripts/calibrate.ts)',
      l2: RISK_SETTINGS.l2,
      iterations: fit.iterations,
      converged: fit.converged,
      meanLogLoss: sig(fit.meanLogLoss, 6),
      ruleWeights:
        "ln(max(1, (O − 1.96·√O) / E)): O bug-inducing commits the rule fired on, E their expected number from the size part fitted without their project, shifted to that project's base rate",
    },
    trainingData: {
      source:
        'ISSTA 2021 "Deep Just-in-Time Defect Prediction: How Far Are We?" artifact (github.com/ZZR0/ISSTA21-JIT-DP, MIT): <project>_k_feature.csv labels, <project>_commit_files.csv paths and line counts',
      projects: training.map((p) => ({
        name: p.name,
        commits: p.commits.length,
        bugInducing: p.commits.reduce((b, c) => b + c.bug, 0),
      })),
      commits,
      bugInducing,
    },
  };
  return { params, rules };
}

function sig(value: number, digits = 8): number {
  return Number(value.toPrecision(digits));
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation of the full shipped score

export interface Interval {
  value: number;
  low: number;
  high: number;
}

export interface RiskProjectEvaluation {
  project: string;
  testCommits: number;
  testBugRate: number;
  unresolvedTest: number;
  auc: {
    score: Interval;
    /** The same shipped score with no message text (the fix feature unknown, at its expected contribution). */
    scoreMessagesUnknown: Interval;
    linesAdded: Interval;
    churn: Interval;
    files: Interval;
    gitLinesAdded: number;
  };
  scoreMinusLinesAdded: Interval;
  unknownMinusLinesAdded: Interval;
  high: { flagged: number; precision: number; recall: number; laPrecision: number; laRecall: number };
  effortRecall: { score: number; linesAdded: number; churn: number; files: number };
  levels: Record<RiskLevel, { commits: number; bugs: number }>;
  /** The same with no message text (scored like a message naming no issue). */
  levelsMessagesUnknown: Record<RiskLevel, { commits: number; bugs: number }>;
  pointsGivingRules: number;
}

/** Scores a commit the way the product does. */
export type Scorer = (request: DeploymentRequest) => number;

export function shippedScorer(params: RiskModelParams): Scorer {
  const model = createRiskModel(params);
  return (request) => assessRisk(request, { model, maxEvidence: 1 }).score;
}

/**
 * Recall within the first `share` of the changed lines, inspecting commits by decreasing score (ties: fewer changed
 * lines first, the inspection order an effort-aware reviewer would take).
 */
export function effortAwareRecall(scores: ArrayLike<number>, commits: readonly PathCommit[], share: number): number {
  const order = commits.map((_, i) => i);
  order.sort(
    (a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || (commits[a]?.changedLines ?? 0) - (commits[b]?.changedLines ?? 0),
  );
  const total = commits.reduce((s, c) => s + c.changedLines, 0);
  const bugs = commits.reduce((s, c) => s + c.bug, 0);
  let spent = 0;
  let found = 0;
  for (const i of order) {
    const c = commits[i];
    if (!c) continue;
    if (spent + c.changedLines > share * total) break;
    spent += c.changedLines;
    found += c.bug;
  }
  return bugs > 0 ? found / bugs : 0;
}

function bootstrapAucs(
  series: readonly ArrayLike<number>[],
  labels: Uint8Array,
  resamples: number,
  random: () => number,
): { intervals: Interval[]; differences: Interval[] } {
  const aucs = series.map((s) => prepareWeightedAuc(s, labels));
  const draws = series.map(() => [] as number[]);
  // Each series against series[1] (the baseline), paired on the same resample.
  const differenceDraws = series.map(() => [] as number[]);
  forEachStratifiedResample(labels, resamples, random, (weights) => {
    const values = aucs.map((auc) => auc(weights));
    values.forEach((v, j) => {
      draws[j]?.push(v);
      differenceDraws[j]?.push(v - (values[1] ?? 0));
    });
  });
  const interval = (value: number, xs: number[]): Interval => {
    xs.sort((a, b) => a - b);
    const at = (q: number) => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))] ?? Number.NaN;
    return { value, low: at(0.025), high: at(0.975) };
  };
  const points = series.map((s) => rocAuc(s, labels));
  return {
    intervals: series.map((_, j) => interval(points[j] ?? Number.NaN, draws[j] ?? [])),
    differences: series.map((_, j) =>
      interval((points[j] ?? Number.NaN) - (points[1] ?? Number.NaN), differenceDraws[j] ?? []),
    ),
  };
}

export function evaluateScorer(project: PathProject, scorer: Scorer, seed: number, resamples: number) {
  const test = project.test;
  const labels = Uint8Array.from(test, (c) => c.bug);
  const scores = Float64Array.from(test, (c) => scorer(c.request));
  const la = Float64Array.from(test, (c) => c.la);
  const churn = Float64Array.from(test, (c) => c.churn);
  const nf = Float64Array.from(test, (c) => c.nf);
  const unknown = Float64Array.from(test, (c) => scorer({ ...c.request, commitMessages: [] }));
  const { intervals, differences } = bootstrapAucs(
    [scores, la, churn, nf, unknown],
    labels,
    resamples,
    seededRandom(seed),
  );
  const bugs = test.reduce((s, c) => s + c.bug, 0);
  let flagged = 0;
  let flaggedBugs = 0;
  scores.forEach((s, i) => {
    if (s >= RISK_SETTINGS.highCutoff) {
      flagged++;
      flaggedBugs += test[i]?.bug ?? 0;
    }
  });
  // Lines added flagging the same number of commits (largest first; ties in file order).
  const byLines = test.map((_, i) => i).sort((a, b) => (la[b] ?? 0) - (la[a] ?? 0));
  const laBugs = byLines.slice(0, flagged).reduce((s, i) => s + (test[i]?.bug ?? 0), 0);
  const levelRates = (values: Float64Array) => {
    const levels = Object.fromEntries(RISK_LEVELS.map((l) => [l, { commits: 0, bugs: 0 }])) as Record<
      RiskLevel,
      { commits: number; bugs: number }
    >;
    values.forEach((s, i) => {
      const level = levels[levelForScore(s)];
      level.commits++;
      level.bugs += test[i]?.bug ?? 0;
    });
    return levels;
  };
  const share = RISK_SETTINGS.effortShare;
  return {
    scores,
    evaluation: {
      project: project.name,
      testCommits: test.length,
      testBugRate: bugs / test.length,
      unresolvedTest: project.unresolved.test,
      auc: {
        score: intervals[0] as Interval,
        scoreMessagesUnknown: intervals[4] as Interval,
        linesAdded: intervals[1] as Interval,
        churn: intervals[2] as Interval,
        files: intervals[3] as Interval,
        gitLinesAdded: rocAuc(
          Float64Array.from(test, (c) => c.request.spread.linesAdded),
          labels,
        ),
      },
      scoreMinusLinesAdded: differences[0] as Interval,
      unknownMinusLinesAdded: differences[4] as Interval,
      high: {
        flagged,
        precision: flagged > 0 ? flaggedBugs / flagged : 0,
        recall: bugs > 0 ? flaggedBugs / bugs : 0,
        laPrecision: flagged > 0 ? laBugs / flagged : 0,
        laRecall: bugs > 0 ? laBugs / bugs : 0,
      },
      effortRecall: {
        score: effortAwareRecall(scores, test, share),
        linesAdded: effortAwareRecall(la, test, share),
        churn: effortAwareRecall(churn, test, share),
        files: effortAwareRecall(nf, test, share),
      },
      levels: levelRates(scores),
      levelsMessagesUnknown: levelRates(unknown),
      pointsGivingRules: 0,
    } satisfies RiskProjectEvaluation,
  };
}

/** Leave-one-project-out: the whole fit without the project, the shipped engine on its last 20 %. */
export function evaluateRiskModel(projects: readonly PathProject[], cache: RiskFitCache): RiskProjectEvaluation[] {
  return projects.map((heldOut, index) => {
    const { params } = fitRiskModel(
      projects.filter((p) => p !== heldOut),
      cache,
    );
    const { evaluation } = evaluateScorer(
      heldOut,
      shippedScorer(params),
      SETTINGS.seed + index,
      SETTINGS.bootstrapResamples,
    );
    evaluation.pointsGivingRules = params.pathRules.filter((r) => r.coefficient > 0).length;
    return evaluation;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const f3 = (x: number) => x.toFixed(3);
const f4 = (x: number) => x.toFixed(4);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
const ci = (i: Interval) => `${f3(i.value)} [${f3(i.low)}, ${f3(i.high)}]`;
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

export function renderRiskEvaluation(rows: readonly RiskProjectEvaluation[]): string {
  const lines = [
    '| project | test commits (bug rate) | **full score, fix known** | full score, messages unknown | lines added | churn | files | fix known − lines added [95 % CI] | unknown − lines added [95 % CI] |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const difference = (d: Interval) => `${signed(d.value)} [${signed(d.low)}, ${signed(d.high)}]`;
  for (const r of rows) {
    lines.push(
      `| ${r.project} | ${formatCount(r.testCommits)} (${pct(r.testBugRate)}) | **${ci(r.auc.score)}** | ${ci(r.auc.scoreMessagesUnknown)} | ${ci(r.auc.linesAdded)} | ${ci(r.auc.churn)} | ${ci(r.auc.files)} | ${difference(r.scoreMinusLinesAdded)} | ${difference(r.unknownMinusLinesAdded)} |`,
    );
  }
  lines.push(
    `| **mean** | | **${f4(mean(rows.map((r) => r.auc.score.value)))}** | ${f4(mean(rows.map((r) => r.auc.scoreMessagesUnknown.value)))} | ${f4(mean(rows.map((r) => r.auc.linesAdded.value)))} | ${f4(mean(rows.map((r) => r.auc.churn.value)))} | ${f4(mean(rows.map((r) => r.auc.files.value)))} | ${signed(mean(rows.map((r) => r.scoreMinusLinesAdded.value)))} | ${signed(mean(rows.map((r) => r.unknownMinusLinesAdded.value)))} |`,
  );
  return lines.join('\n');
}

export function renderRiskCutoffs(rows: readonly RiskProjectEvaluation[]): string {
  const lines = [
    `| project | flagged high or critical (score ≥ ${RISK_SETTINGS.highCutoff}) | precision | recall | lines added, same number flagged: precision / recall | effort-aware recall at ${RISK_SETTINGS.effortShare * 100} % of changed lines: score / lines added / churn / files |`,
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.project} | ${formatCount(r.high.flagged)} (${pct(r.high.flagged / r.testCommits)}) | ${f3(r.high.precision)} | ${f3(r.high.recall)} | ${f3(r.high.laPrecision)} / ${f3(r.high.laRecall)} | ${f3(r.effortRecall.score)} / ${f3(r.effortRecall.linesAdded)} / ${f3(r.effortRecall.churn)} / ${f3(r.effortRecall.files)} |`,
    );
  }
  return lines.join('\n');
}

export function renderLevelRates(rows: readonly RiskProjectEvaluation[]): string {
  const lines = [
    '| level | score | odds of a later fix on the model scale | held-out commits | share | bug-inducing rate |',
    '|---|---|---|---|---|---|',
  ];
  const bounds: Record<RiskLevel, [string, string]> = {
    low: ['< 30', '< 1:4 (p < 0.2)'],
    medium: ['30–49.9', '1:4 – 1:2 (0.2 ≤ p < 0.33)'],
    high: ['50–69.9', '1:2 – 1:1 (0.33 ≤ p < 0.5)'],
    critical: ['≥ 70', '≥ 1:1 (p ≥ 0.5)'],
  };
  const total = rows.reduce((s, r) => s + r.testCommits, 0);
  for (const level of RISK_LEVELS) {
    const commits = rows.reduce((s, r) => s + r.levels[level].commits, 0);
    const bugs = rows.reduce((s, r) => s + r.levels[level].bugs, 0);
    lines.push(
      `| ${level} | ${bounds[level][0]} | ${bounds[level][1]} | ${formatCount(commits)} | ${pct(commits / total)} | ${commits > 0 ? pct(bugs / commits) : '–'} |`,
    );
  }
  const perProject = rows
    .map(
      (r) =>
        `${r.project} ${RISK_LEVELS.map((l) => (r.levels[l].commits > 0 ? pct(r.levels[l].bugs / r.levels[l].commits) : '–')).join(' / ')}`,
    )
    .join('; ');
  const unknown = RISK_LEVELS.map((level) => {
    const commits = rows.reduce((s, r) => s + r.levelsMessagesUnknown[level].commits, 0);
    const bugs = rows.reduce((s, r) => s + r.levelsMessagesUnknown[level].bugs, 0);
    return `${level} ${pct(commits / total)} of commits at ${commits > 0 ? pct(bugs / commits) : '–'}`;
  }).join(', ');
  return `${lines.join('\n')}\n\nPer project (low / medium / high / critical): ${perProject}.\n\nThe same commits with no message text (scored like a message naming no issue): ${unknown}.`;
}

export function renderRuleTable(rules: readonly RuleStat[], minCommits = 30): string {
  const lines = [
    `| rule | factor | commits | observed | expected | observed / expected | lower 95 % bound | projects with lift (of those with ≥ ${RISK_SETTINGS.replicationMinCommits} commits) | points |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const shown = rules.filter((r) => r.commits >= minCommits || r.coefficient > 0);
  for (const r of shown) {
    lines.push(
      `| \`${r.id}\` | ${r.factor} | ${formatCount(r.commits)} | ${formatCount(r.observed)} | ${r.expected.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.lowerBound.toFixed(2)} | ${r.projectsWithLift} of ${r.projects} | ${pointsCell(r)} |`,
    );
  }
  const hidden = rules.length - shown.length;
  return `${lines.join('\n')}${hidden > 0 ? `\n\n${hidden} more rules fired on fewer than ${minCommits} commits each, none with points.` : ''}`;
}

function pointsCell(r: RuleStat): string {
  if (r.coefficient > 0) return (RISK_SETTINGS.pointsPerLogOdds * r.coefficient).toFixed(1);
  if (r.lowerBound > 1) return '0 (lift in one project only)';
  return '0 (dropped)';
}

export function renderFeatureTable(params: RiskModelParams): string {
  const rows = params.features.map(
    (f) =>
      `| ${f.name} | log1p(${RISK_MODEL_FEATURE_LABELS[f.name]}) | ${f.coefficient} | ${f.standardizedCoefficient} | ${(RISK_SETTINGS.pointsPerLogOdds * f.coefficient * Math.LN2).toFixed(1)} |`,
  );
  const fix = params.issueReference;
  return [
    '| feature | model input | coefficient | per sd | points when the value doubles |',
    '|---|---|---|---|---|',
    ...rows,
    `| fix | 1 when the change's text names a tracked issue (fitted on Kamei's \`fix\`), else 0 | ${fix.coefficient} | ${fix.standardizedCoefficient} | ${(RISK_SETTINGS.pointsPerLogOdds * fix.coefficient).toFixed(1)} when it fires |`,
  ].join('\n');
}

export function riskGoalVerdict(rows: readonly RiskProjectEvaluation[]): string {
  const each = (pick: (r: RiskProjectEvaluation) => Interval) => {
    const below = rows.filter((r) => pick(r).value < r.auc.linesAdded.value);
    return below.length === 0
      ? '**met on every project**: the full score ranks at least as well as lines added on its held-out last 20 %'
      : `**not met** on ${below.map((r) => `${r.project} (${f4(pick(r).value)} < ${f4(r.auc.linesAdded.value)})`).join(', ')}`;
  };
  const m = mean(rows.map((r) => r.auc.score.value));
  const unknown = mean(rows.map((r) => r.auc.scoreMessagesUnknown.value));
  return [
    `- Full score ≥ lines added on each project, fix known: ${each((r) => r.auc.score)}.`,
    `- Full score ≥ lines added on each project, messages unknown (paths and line counts only, as on a project whose messages are not read): ${each((r) => r.auc.scoreMessagesUnknown)}.`,
    `- Mean AUC ≥ 0.74 (fix known): ${m >= 0.74 ? '**met**' : '**not met**'} (${f4(m)}; messages unknown ${f4(unknown)}; lines added ${f4(mean(rows.map((r) => r.auc.linesAdded.value)))}).`,
  ].join('\n');
}

export function levelCounts(rows: readonly RiskProjectEvaluation[]) {
  return RISK_LEVELS.map((l) => rows.reduce((s, r) => s + r.levels[l].commits, 0));
}

// ---------------------------------------------------------------------------------------------------------------
// The whole run

export interface RiskCalibrationResult {
  params: RiskModelParams;
  json: string;
  rules: RuleStat[];
  rows: RiskProjectEvaluation[];
  report: string;
}

export function serializeRiskParams(params: RiskModelParams): string {
  return `${JSON.stringify(params, null, 2)}\n`;
}

export function runRiskCalibration(
  dataDir: string,
  projects: readonly Project[],
  log: (line: string) => void = () => {},
): RiskCalibrationResult {
  log('risk model: reading the changed files of every commit and detecting factors…');
  const pathProjects = loadPathProjects(dataDir, projects);
  const cache = new RiskFitCache();
  log('risk model: fitting on all five projects (size part, then rule lifts project by project)…');
  const { params, rules } = fitRiskModel(pathProjects, cache);
  createRiskModel(params); // the product must accept what it is given
  log('risk model: leave-one-project-out evaluation of the full shipped score (bootstrap)…');
  const rows = evaluateRiskModel(pathProjects, cache);
  return {
    params,
    json: serializeRiskParams(params),
    rules,
    rows,
    report: renderRiskReport(params, rules, rows, pathProjects),
  };
}

export function renderRiskReport(
  params: RiskModelParams,
  rules: readonly RuleStat[],
  rows: readonly RiskProjectEvaluation[],
  projects: readonly PathProject[],
): string {
  const coverage = projects
    .map(
      (p) =>
        `${p.name} ${formatCount(p.commits.length)} of ${formatCount(p.totalCommits)} (test ${formatCount(p.test.length)}, ${formatCount(p.unresolved.test)} without files)`,
    )
    .join('; ');
  const weighted = params.pathRules.filter((r) => r.coefficient > 0);
  return `# Calibration of the risk score

Generated by \`npm run calibrate\` (scripts/calibrate.ts, scripts/riskCalibration.ts); do not edit by hand. The fitted
parameters are \`src/domain/risk/risk-model.v4.json\`; the product scores with them in
\`src/domain/risk/riskModel.ts\` and \`engine.ts\`. How to read the score: docs/risk-model.md.

## Evaluation of the full shipped score

Every commit of the five projects becomes a deployment request with its changed files and their line counts (the
\`<project>_commit_files.csv\` tables), runs through the product's factor detection, and the shipped engine
(\`assessRisk\`, the same call \`chaos assess\` makes) scores it. **Leave-one-project-out**: the size part and every
rule weight are fitted without the project (rule lifts measured on the other four, each held out in turn), then the
project's last 20 % by date is scored. Commits whose files could not be resolved are left out of both the score and
the baselines (${coverage}). AUC with average ranks for ties; 95 % stratified bootstrap intervals
(${SETTINGS.bootstrapResamples} resamples, seed ${SETTINGS.seed} + project index).

- **lines added**, **churn** (added + deleted) and **files**: the benchmark's Kamei columns \`la\`, \`la + ld\`, \`nf\`.
  Lines added alone by git numstat (new files included) gives ${rows.map((r) => `${r.project} ${f4(r.auc.gitLinesAdded)}`).join(', ')}.
- Context points (rollback, dependencies, error budget, author tags) are not in this data: every commit is scored as a
  production deployment with rollback and no declared dependency, so they add nothing here (docs/risk-model.md).

${renderRiskEvaluation(rows)}

### Goals

${riskGoalVerdict(rows)}

### At the high-risk cut-off, and effort-aware

Precision and recall of the commits the score puts at high or critical, beside lines added flagging the same number
of commits. Effort-aware recall: bug-inducing commits found when inspecting commits by decreasing score (ties: fewer
changed lines first) until 20 % of all changed lines are read; the same for the baselines (largest first).

${renderRiskCutoffs(rows)}

### What each level means on this data (held out)

${renderLevelRates(rows)}

## Shipped model

Fitted on ${formatCount(params.trainingData.commits)} commits with files
(${formatCount(params.trainingData.bugInducing)} bug-inducing). Size part: ${params.fit.method}; L2 ${params.fit.l2}
on standardised coefficients; ${params.fit.iterations} Newton iterations (converged: ${params.fit.converged}); mean
training log-loss ${params.fit.meanLogLoss}; intercept ${params.intercept}.

${renderFeatureTable(params)}

**fix** is fitted on the dataset's Kamei \`fix\` column (${pct(params.issueReference.trainingShare)} of the training
commits): its extractor marked a commit whose message names an issue key that exists in the project's tracker. The
data has no messages; the product reads the same signal from commit messages, a pull request's title and body and a
request's description with \`src/domain/risk/issueReference.ts\` (Fixes #123, Bug: 12345, QTBUG-1234, …), an
approximation of that label that cannot ask the tracker. In the evaluation above each commit carries a message standing
for its label ("Bug: 1" when fix = 1), so the product's detector and engine score it; "messages unknown" scores the same
commits with no message at all, which the product scores like a message naming no issue (docs/risk-model.md says why).

Which features and fitting choices moved the held-out ranking: docs/risk-model.md ("Which features moved the
ranking").

Points: size points = max(0, 70 + ${params.points.pointsPerLogOdds} × η), where η is the linear predictor (20 points
per doubling of the odds of a later fix; 30, 50 and 70 sit at odds 1:4, 1:2 and 1:1). A rule that fires adds
${params.points.pointsPerLogOdds} × its coefficient; a factor takes its strongest rule.

### Path rules: observed / expected bug-inducing commits

For each path rule and path word, over the commits it fires on (files that ship only): observed bug-inducing commits
against the number expected from their size, with the size part fitted without the commit's project and shifted to
that project's base rate (so a rule is compared with commits of the same project and size, not with a project that
simply has more bugs). Weight: ${params.fit.ruleWeights}. Rules near 1 or below are dropped (0 points), and so are
rules whose lift comes from one repository's habits (on this data: vscode-go's \`package.json\`, Gerrit's settings
screen, Go's build Dockerfiles), which would not carry to a project this calibration has never seen.
${weighted.length} rule(s) carry points: ${weighted.map((r) => `\`${r.id}\``).join(', ') || 'none'}.

${renderRuleTable(rules)}

Words of file paths (cache, db, schema, auth, network, container, …) show no lift over size once the project's base
rate is accounted for: they stay evidence on the card and keep driving validators and suggestions, with no points.
`;
}
