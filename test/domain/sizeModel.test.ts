import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChangeSpreadMetrics,
  computeSpreadFromFiles,
  createSizeModel,
  defaultSizeModel,
  explainSizeRisk,
  featureValue,
  linearPredictor,
  rawFeatureValue,
  SIZE_FEATURES,
  type SizeModelParams,
  scoreSizeRisk,
  summarizeSpread,
} from '../../src/domain/risk/sizeModel.js';

const PATHS = [
  'README.md',
  'package.json',
  'src/api/users.ts',
  'src/api/orders.ts',
  'src/cache/redis.ts',
  'db/migrations/0042_add_index.sql',
  'docs/guide/README.md',
  'lib/a/b/c/deep.go',
  'infra/main.tf',
];

const fileArb = fc.record({
  path: fc.constantFrom(...PATHS),
  linesAdded: fc.nat({ max: 20_000 }),
  linesDeleted: fc.nat({ max: 20_000 }),
});
/** A file change with at least one changed line (what "adding a change" means for the monotonicity property). */
const positiveFileArb = fileArb.filter((f) => f.linesAdded + f.linesDeleted > 0);

const metricsArb: fc.Arbitrary<ChangeSpreadMetrics> = fc.record({
  linesAdded: fc.nat({ max: 10_000_000 }),
  linesDeleted: fc.nat({ max: 10_000_000 }),
  files: fc.nat({ max: 100_000 }),
  directories: fc.nat({ max: 10_000 }),
  subsystems: fc.nat({ max: 1_000 }),
  entropy: fc.double({ min: 0, max: 20, noNaN: true }),
});

/** Parameters that use all six features with positive weights, so monotonicity is checked beyond the shipped set. */
function allFeatureParams(): SizeModelParams {
  const base = defaultSizeModel().params;
  const features = SIZE_FEATURES.map((name, i) => ({
    name,
    source: name,
    transform: 'log1p' as const,
    coefficient: 0.05 + 0.1 * i,
    standardizedCoefficient: 0.1,
    trainingMean: 0,
    trainingSd: 1,
  }));
  const intercept = -3;
  const reference = linearPredictor({ features, intercept }, base.points.referenceChange);
  return {
    ...base,
    features,
    intercept,
    points: { ...base.points, referenceLinearPredictor: reference, saturationLinearPredictor: reference + 5 },
  };
}

describe('computeSpreadFromFiles (shared with the intakes)', () => {
  it('counts distinct paths, parent directories and top-level segments, and entropy in bits', () => {
    const spread = computeSpreadFromFiles([
      { path: 'src/api/users.ts', linesAdded: 8, linesDeleted: 2 },
      { path: 'src/api/orders.ts', linesAdded: 5, linesDeleted: 5 },
      { path: 'README.md', linesAdded: 0, linesDeleted: 0 },
      { path: 'db/migrations/1.sql', linesAdded: 20, linesDeleted: 0 },
    ]);
    expect(spread).toMatchObject({ linesAdded: 33, linesDeleted: 7, files: 4, directories: 3, subsystems: 3 });
    // Changed lines per file 10, 10, 0, 20 → p = ¼, ¼, ½ → 1.5 bits (not normalised by log₂ of the file count).
    expect(spread.entropy).toBeCloseTo(1.5, 12);
  });

  it('merges repeated paths, and a single file has entropy 0', () => {
    const spread = computeSpreadFromFiles([
      { path: 'src/a.ts', linesAdded: 3, linesDeleted: 0 },
      { path: 'src/a.ts', linesAdded: 2, linesDeleted: 1 },
    ]);
    expect(spread).toEqual({ linesAdded: 5, linesDeleted: 1, files: 1, directories: 1, subsystems: 1, entropy: 0 });
  });

  it('two equally changed files give 1 bit; adding a large file lowers the raw entropy (why it is not a feature)', () => {
    const two = computeSpreadFromFiles([
      { path: 'a.ts', linesAdded: 1, linesDeleted: 0 },
      { path: 'b.ts', linesAdded: 1, linesDeleted: 0 },
    ]);
    const three = computeSpreadFromFiles([
      { path: 'a.ts', linesAdded: 1, linesDeleted: 0 },
      { path: 'b.ts', linesAdded: 1, linesDeleted: 0 },
      { path: 'c.ts', linesAdded: 100, linesDeleted: 0 },
    ]);
    expect(two.entropy).toBeCloseTo(1, 12);
    expect(three.entropy).toBeLessThan(0.2);
    // Normalised entropy (÷ log₂ files) drops too, and so does entropy × log₂(files) (= the raw entropy again).
    expect(three.entropy / Math.log2(3)).toBeLessThan(two.entropy / Math.log2(2));
    // (la + ld) × entropy, the spread feature offered to the model, rises: 2 bits → 2·log₂102 + 100·log₂1.02 ≈ 16.2.
    expect(rawFeatureValue('changedLineBits', three)).toBeGreaterThan(rawFeatureValue('changedLineBits', two));
    expect(rawFeatureValue('changedLineBits', two)).toBeCloseTo(2, 12);
  });
});

describe('changedLineBits = (la + ld) × entropy', () => {
  it('never decreases when a file change is added or merged into an existing path', () => {
    fc.assert(
      fc.property(fc.array(fileArb, { maxLength: 12 }), fileArb, (files, extra) => {
        const before = rawFeatureValue('changedLineBits', computeSpreadFromFiles(files));
        const after = rawFeatureValue('changedLineBits', computeSpreadFromFiles([...files, extra]));
        expect(after).toBeGreaterThanOrEqual(before - 1e-9 * Math.max(1, before));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('size risk points', () => {
  const models = [
    ['committed model', defaultSizeModel()],
    ['model with all six features', createSizeModel(allFeatureParams())],
  ] as const;

  for (const [name, model] of models) {
    it(`${name}: adding a file change with changed lines never lowers the points or the linear predictor`, () => {
      fc.assert(
        fc.property(fc.array(fileArb, { maxLength: 15 }), positiveFileArb, (files, extra) => {
          const before = model.score(computeSpreadFromFiles(files));
          const after = model.score(computeSpreadFromFiles([...files, extra]));
          expect(after.linearPredictor).toBeGreaterThanOrEqual(before.linearPredictor);
          expect(after.points).toBeGreaterThanOrEqual(before.points);
          expect(after.probability).toBeGreaterThanOrEqual(before.probability);
        }),
        { numRuns: 2000 },
      );
    });

    it(`${name}: points stay within 0…max with one decimal, probability strictly inside (0, 1)`, () => {
      const { maxPoints } = model.params.points;
      fc.assert(
        fc.property(metricsArb, (metrics) => {
          const { points, probability } = model.score(metrics);
          expect(points).toBeGreaterThanOrEqual(0);
          expect(points).toBeLessThanOrEqual(maxPoints);
          expect(Math.round(points * 10) / 10).toBe(points);
          expect(probability).toBeGreaterThan(0);
          expect(probability).toBeLessThan(1);
        }),
        { numRuns: 2000 },
      );
      expect(
        model.score({ linesAdded: 1e300, linesDeleted: 1e300, files: 1e300, directories: 1, subsystems: 1, entropy: 1 })
          .probability,
      ).toBeLessThan(1);
    });
  }

  it('the reference change (one file, no changed line) scores 0 and the largest changes saturate', () => {
    const model = defaultSizeModel();
    expect(scoreSizeRisk(model.params.points.referenceChange).points).toBe(0);
    const huge = { linesAdded: 50_000, linesDeleted: 50_000, files: 900, directories: 200, subsystems: 30, entropy: 9 };
    expect(scoreSizeRisk(huge).points).toBe(model.params.points.maxPoints);
  });

  it('the committed model is non-negative and uses only metrics computed from a diff', () => {
    const { params } = defaultSizeModel();
    expect(params.modelVersion).toBe('size-model.v1');
    expect(params.points.maxPoints).toBe(35);
    for (const feature of params.features) {
      expect(feature.coefficient).toBeGreaterThanOrEqual(0);
      expect(SIZE_FEATURES).toContain(feature.name);
    }
    expect(params.features.map((f) => f.name)).toContain('linesAdded');
  });
});

describe('explainSizeRisk', () => {
  it('summarises the change for the card, with thousands separators and plurals', () => {
    const metrics = { linesAdded: 1000, linesDeleted: 240, files: 14, directories: 6, subsystems: 3, entropy: 3.2 };
    const explanation = explainSizeRisk(metrics);
    expect(explanation.summary).toBe('1,240 lines (+1,000 −240) across 14 files in 3 subsystems');
    expect(explanation.points).toBe(scoreSizeRisk(metrics).points);
    expect(
      summarizeSpread({ linesAdded: 1, linesDeleted: 0, files: 1, directories: 1, subsystems: 1, entropy: 0 }),
    ).toBe('1 line (+1 −0) across 1 file in 1 subsystem');
    expect(
      summarizeSpread({ linesAdded: 0, linesDeleted: 0, files: 2, directories: 1, subsystems: 1, entropy: 0 }),
    ).toBe('0 lines across 2 files in 1 subsystem');
  });

  it('splits the points among the features that raised them, largest first', () => {
    fc.assert(
      fc.property(metricsArb, (metrics) => {
        const e = explainSizeRisk(metrics);
        const sum = e.drivers.reduce((s, d) => s + d.points, 0);
        expect(Math.abs(sum - e.points)).toBeLessThanOrEqual(0.05 * e.drivers.length + 1e-9);
        for (let i = 1; i < e.drivers.length; i++) {
          expect(e.drivers[i - 1]?.points ?? 0).toBeGreaterThanOrEqual(e.drivers[i]?.points ?? 0);
        }
        if (e.points === 0) expect(e.drivers).toEqual([]);
      }),
      { numRuns: 500 },
    );
    const large = explainSizeRisk({
      linesAdded: 900,
      linesDeleted: 10,
      files: 3,
      directories: 1,
      subsystems: 1,
      entropy: 1,
    });
    expect(large.drivers[0]?.feature).toBe('linesAdded');
    expect(large.drivers[0]?.label).toBe('lines added');
  });
});

describe('validation', () => {
  it('rejects metrics that are negative, NaN or missing, naming the field', () => {
    const ok = { linesAdded: 1, linesDeleted: 0, files: 1, directories: 1, subsystems: 1, entropy: 0 };
    expect(() => scoreSizeRisk({ ...ok, linesAdded: -1 })).toThrow(/linesAdded must be a finite non-negative number/);
    expect(() => scoreSizeRisk({ ...ok, entropy: Number.NaN })).toThrow(/entropy/);
    expect(() => scoreSizeRisk({ ...ok, files: undefined } as unknown as ChangeSpreadMetrics)).toThrow(/files/);
    try {
      scoreSizeRisk({ ...ok, files: Number.POSITIVE_INFINITY });
      expect.unreachable();
    } catch (error) {
      expect((error as { code?: string }).code).toBe('risk_invalid_spread_metrics');
    }
  });

  it('refuses parameters with a negative coefficient (they would break monotonicity)', () => {
    const params = structuredClone(defaultSizeModel().params);
    const first = params.features[0];
    if (!first) throw new Error('no feature');
    first.coefficient = -0.1;
    expect(() => createSizeModel(params)).toThrow(/features\.0\.coefficient/);
    try {
      createSizeModel(params);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('risk_invalid_size_model');
    }
  });

  it('refuses parameters whose reference point does not match the coefficients, or an unknown feature', () => {
    const shifted = structuredClone(defaultSizeModel().params);
    shifted.intercept += 1;
    expect(() => createSizeModel(shifted)).toThrow(/referenceLinearPredictor/);
    const unknown = structuredClone(defaultSizeModel().params) as unknown as { features: { name: string }[] };
    const first = unknown.features[0];
    if (first) first.name = 'authorExperience';
    expect(() => createSizeModel(unknown)).toThrow(/features\.0\.name/);
    expect(() => createSizeModel({})).toThrow(/size model parameters/);
  });

  it('the model inputs are log1p of the raw metrics', () => {
    const m = { linesAdded: 99, linesDeleted: 9, files: 3, directories: 2, subsystems: 1, entropy: 1.5 };
    expect(featureValue('linesAdded', m)).toBeCloseTo(Math.log(100), 12);
    expect(featureValue('changedLineBits', m)).toBeCloseTo(Math.log1p(108 * 1.5), 12);
  });
});
