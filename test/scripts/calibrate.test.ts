import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bootstrapAucDifference,
  CalibrationError,
  candidateFeatureSets,
  defaultDataDir,
  fitLogistic,
  fitShippedModel,
  type JitCommit,
  loadProjects,
  MODEL_PATH,
  PROJECTS,
  parseJitCsv,
  predict,
  prepareInputs,
  prepareWeightedAuc,
  rocAuc,
  type Sample,
  seededRandom,
  serializeParams,
  solveBoxedQuadratic,
  timeSplit,
  toSample,
} from '../../scripts/calibrate.js';
import { createSizeModel, SIZE_FEATURES } from '../../src/domain/risk/sizeModel.js';

const HEADER = ',_id,date,bug,__,ns,nd,nf,entrophy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp';
/** The labels only (*_k_feature.csv): the repository's copy has them even where the shared path-level data is absent. */
const LABELS_DIR = process.env.JIT_DEFECTS_DIR ?? path.resolve(import.meta.dirname, '../../data/jit-defects');
const hasData = PROJECTS.every((p) => existsSync(path.join(LABELS_DIR, `${p}_k_feature.csv`)));

/** AUC by counting pairs, the definition the rank-sum formula must reproduce. */
function pairCountAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((s, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((t, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += s > t ? 1 : s === t ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

/** Synthetic commits whose bug log-odds are −2 + 0.8·log1p(la) − 0.5·log1p(nf) (nf protective, so clipped to 0). */
function syntheticCommits(n: number, seed: number): JitCommit[] {
  const random = seededRandom(seed);
  const commits: JitCommit[] = [];
  for (let i = 0; i < n; i++) {
    const linesAdded = Math.floor(Math.exp(random() * 8));
    const files = 1 + Math.floor(random() * 20);
    const eta = -2 + 0.8 * Math.log1p(linesAdded) - 0.5 * Math.log1p(files);
    const bug = random() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
    commits.push({
      id: `c${i}`,
      date: i,
      bug,
      metrics: {
        linesAdded,
        linesDeleted: Math.floor(random() * 50),
        files,
        directories: 1,
        subsystems: 1,
        entropy: random() * 3,
      },
    });
  }
  return commits;
}

describe('parseJitCsv', () => {
  it('reads the columns the model needs from the data header', () => {
    const text = `${HEADER}\n0,abc,1451580138,0,0,1,1,1,0.0,1,0,293,0,8,52.8,14,880,407.5,49\n1,def,1451584226,1,1,3,4,17,1.3058,418,181,2663,0,42,306.1,263,5955,1069.8,662\n`;
    const commits = parseJitCsv(text, 'x.csv');
    expect(commits).toHaveLength(2);
    expect(commits[1]).toEqual({
      id: 'def',
      date: 1451584226,
      bug: 1,
      metrics: { linesAdded: 418, linesDeleted: 181, files: 17, directories: 4, subsystems: 3, entropy: 1.3058 },
      fix: 0,
    });
    // `fix` is read when the header has it (the risk model needs it; the size model does not).
    expect(
      parseJitCsv(',_id,date,bug,ns,nd,nf,entrophy,la,ld\n0,a,1,0,1,1,1,0,1,0\n', 'p.csv')[0]?.fix,
    ).toBeUndefined();
  });

  it('names the file, line and column of bad input', () => {
    expect(() => parseJitCsv(',_id,date,bug,ns,nd,nf,la,ld\n', 'p.csv')).toThrow(
      'p.csv: the header has no column "entrophy"',
    );
    const row = (cells: string) => `${HEADER}\n${cells}\n`;
    expect(() => parseJitCsv(row('0,a,1,0,0,1,1,1,0.0,-3,0,1,0,1,1,1,1,1,1'), 'p.csv')).toThrow(
      'p.csv line 2: la must be a non-negative integer (got "-3")',
    );
    expect(() => parseJitCsv(row('0,a,1,2,0,1,1,1,0.0,3,0,1,0,1,1,1,1,1,1'), 'p.csv')).toThrow(/bug must be 0 or 1/);
    expect(() => parseJitCsv(row('0,a,1,0,0,1,1,1,abc,3,0,1,0,1,1,1,1,1,1'), 'p.csv')).toThrow(/entrophy must be/);
    expect(() => parseJitCsv(row('0,a,1,0,0,1,1,1,0.0,3,0,1,2,1,1,1,1,1,1'), 'p.csv')).toThrow(
      'p.csv line 2: fix must be 0 or 1 (got "2")',
    );
    expect(() => parseJitCsv(row('0,a,1,0,0,1,1'), 'p.csv')).toThrow('p.csv line 2: 7 fields, the header has 19');
    expect(() => parseJitCsv(row('0,"a",1,0,0,1,1,1,0.0,3,0,1,0,1,1,1,1,1,1'), 'p.csv')).toThrow(/quoted fields/);
    expect(() => parseJitCsv(`${HEADER}\n`, 'p.csv')).toThrow(CalibrationError);
  });

  it('reports a missing data folder with the option to fix it', () => {
    expect(() => loadProjects('/nonexistent/jit')).toThrow(/pass --data <dir>/);
  });
});

describe('rocAuc (rank-sum formula, average ranks for ties)', () => {
  it('known cases', () => {
    expect(rocAuc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([4, 3, 2, 1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([5, 5, 5, 5], [0, 1, 0, 1])).toBe(0.5);
    // Pairs (positive, negative): (2,1) win, (2,2) tie, (3,1) win, (3,2) win → 3.5 / 4.
    expect(rocAuc([1, 2, 2, 3], [0, 1, 0, 1])).toBe(0.875);
    // The prior system's capped size term: everything above 200 lines ties at 20.
    expect(rocAuc([20, 20, 20, 3], [1, 0, 1, 0])).toBeCloseTo((1 + 0.5 + 1 + 0.5) / 4, 12);
  });

  it('refuses one-class input and NaN scores', () => {
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(/at least one positive and one negative/);
    expect(() => rocAuc([1, Number.NaN], [0, 1])).toThrow(/NaN/);
  });

  it('equals pair counting, and the weighted pass equals it with unit weights', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.constantFrom(0, 1)), { minLength: 2, maxLength: 60 }),
        (rows) => {
          const scores = rows.map((r) => r[0]);
          const labels = rows.map((r) => r[1]);
          fc.pre(labels.includes(0) && labels.includes(1));
          const expected = pairCountAuc(scores, labels);
          expect(rocAuc(scores, labels)).toBeCloseTo(expected, 12);
          expect(prepareWeightedAuc(scores, labels)(new Float64Array(rows.length).fill(1))).toBeCloseTo(expected, 12);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the weighted pass equals the AUC of the sample with repeated rows', () => {
    const scores = [0.1, 0.4, 0.4, 0.8, 0.3];
    const labels = [0, 1, 0, 1, 0];
    const weights = [2, 1, 0, 3, 1];
    const expanded = weights.flatMap((w, i) => Array.from({ length: w }, () => i));
    expect(prepareWeightedAuc(scores, labels)(weights)).toBeCloseTo(
      rocAuc(
        expanded.map((i) => scores[i] ?? 0),
        expanded.map((i) => labels[i] ?? 0),
      ),
      12,
    );
  });
});

describe('fitLogistic (non-negative, L2)', () => {
  const sample: Sample = toSample(syntheticCommits(20_000, 7));

  it('recovers a positive effect and clips a protective one to exactly 0', () => {
    const fit = fitLogistic(sample, ['linesAdded', 'files']);
    expect(fit.converged).toBe(true);
    expect(fit.coefficients[0]).toBeGreaterThan(0.65);
    expect(fit.coefficients[0]).toBeLessThan(0.95);
    expect(fit.coefficients[1]).toBe(0);
  });

  it('satisfies the optimality (KKT) conditions of the constrained problem', () => {
    const features = ['linesAdded', 'linesDeleted', 'files', 'changedLineBits'] as const;
    const fit = fitLogistic(sample, features, { l2: 1e-3 });
    const eta = predict(fit, sample);
    features.forEach((feature, j) => {
      // Gradient of mean log-loss + l2/2·β² along the standardised column j.
      const sd = fit.sds[j] ?? 1;
      const mean = fit.means[j] ?? 0;
      let g = 0;
      for (let i = 0; i < sample.n; i++) {
        const p = 1 / (1 + Math.exp(-(eta[i] ?? 0)));
        g += (p - (sample.labels[i] ?? 0)) * (((sample.columns[feature][i] ?? 0) - mean) / sd);
      }
      g = g / sample.n + 1e-3 * (fit.standardized[j] ?? 0);
      if ((fit.standardized[j] ?? 0) > 0) expect(Math.abs(g)).toBeLessThan(1e-7);
      else expect(g).toBeGreaterThan(-1e-7);
    });
  });

  it('is reproducible: the same data gives identical parameters', () => {
    const a = fitLogistic(sample, SIZE_FEATURES);
    const b = fitLogistic(toSample(syntheticCommits(20_000, 7)), SIZE_FEATURES);
    expect(b).toEqual(a);
  });

  it('solves the bounded Newton sub-problem exactly', () => {
    const identity = Float64Array.from([1, 0, 0, 1]);
    const free = Float64Array.from([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect([...solveBoxedQuadratic(Float64Array.from([-1, 1]), identity, free)]).toEqual([1, -1]);
    const bounded = Float64Array.from([Number.NEGATIVE_INFINITY, -0.5]);
    expect([...solveBoxedQuadratic(Float64Array.from([-1, 1]), identity, bounded)]).toEqual([1, -0.5]);
    // Coupled: H = [[2, 1], [1, 2]], g = [-3, -3] → unconstrained optimum d = [1, 1].
    const coupled = solveBoxedQuadratic(Float64Array.from([-3, -3]), Float64Array.from([2, 1, 1, 2]), free);
    expect(coupled[0]).toBeCloseTo(1, 12);
    expect(coupled[1]).toBeCloseTo(1, 12);
  });

  it('refuses one-class training data', () => {
    const allClean = toSample(syntheticCommits(50, 1).map((c) => ({ ...c, bug: 0 as const })));
    expect(() => fitLogistic(allClean, ['linesAdded'])).toThrow(/labels are all equal/);
  });
});

describe('evaluation helpers', () => {
  it('splits by time: first 80 % (floor) for training', () => {
    const { train, test } = timeSplit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(train).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(test).toEqual([9, 10, 11]);
  });

  it('enumerates every feature set that contains lines added, smallest first', () => {
    const sets = candidateFeatureSets(['linesAdded', 'linesDeleted', 'files', 'changedLineBits']);
    expect(sets).toHaveLength(8);
    expect(sets[0]).toEqual(['linesAdded']);
    expect(sets.at(-1)).toEqual(['linesAdded', 'linesDeleted', 'files', 'changedLineBits']);
    expect(new Set(sets.map((s) => s.join())).size).toBe(8);
    expect(() => candidateFeatureSets(['files'])).toThrow(/must contain linesAdded/);
  });

  it('the seeded bootstrap is reproducible and brackets the observed difference', () => {
    const random = seededRandom(3);
    const labels = Array.from({ length: 400 }, () => (random() < 0.3 ? 1 : 0));
    const a = labels.map((y) => y + random() * 2);
    const b = labels.map((y) => y + random() * 4);
    const first = bootstrapAucDifference(a, b, labels, 300, seededRandom(11));
    const second = bootstrapAucDifference(a, b, labels, 300, seededRandom(11));
    expect(second).toEqual(first);
    const observed = rocAuc(a, labels) - rocAuc(b, labels);
    expect(first.low).toBeLessThanOrEqual(observed);
    expect(first.high).toBeGreaterThanOrEqual(observed);
    expect(first.high).toBeGreaterThan(first.low);
  });
});

describe('the default data folder', () => {
  it('is $JIT_DEFECTS_DIR when set, else the first of the two places that holds every file', () => {
    expect(defaultDataDir({ JIT_DEFECTS_DIR: '/somewhere' }, '/repo')).toBe('/somewhere');
  });

  it('names both places it looked in, and how to point at the data, when neither holds the files', () => {
    const root = path.join(tmpdir(), 'no-such-checkout');
    expect(() => defaultDataDir({}, root)).toThrow(CalibrationError);
    expect(() => defaultDataDir({}, root)).toThrow(
      new RegExp(
        `${path.join(root, 'data/jit-defects')} \\(missing 10 of 10\\) and ${path.resolve(root, '../shared/data/jit-defects')} .*JIT_DEFECTS_DIR`,
      ),
    );
  });
});

describe.skipIf(!hasData)('on the shared JIT defect data', () => {
  it('reproduces the published lines-added baseline on the time-ordered 80/20 splits', () => {
    // JIT_Baseline_algo_result.csv of the ISSTA'21 artifact, row "la".
    const published: Record<string, number> = {
      qt: 0.743841,
      jdt: 0.675692,
      platform: 0.746065,
      gerrit: 0.749503,
      go: 0.683108,
    };
    for (const project of loadProjects(LABELS_DIR)) {
      const test = toSample(timeSplit(project.commits).test);
      expect(rocAuc(test.linesAdded, test.labels)).toBeCloseTo(published[project.name] ?? 0, 5);
    }
  });

  it('the committed size-model.v1.json is byte-identical to a fresh calibration', () => {
    const params = fitShippedModel(prepareInputs(loadProjects(LABELS_DIR)));
    expect(serializeParams(params)).toBe(readFileSync(MODEL_PATH, 'utf8'));
    expect(() => createSizeModel(params)).not.toThrow();
  }, 60_000);
});
