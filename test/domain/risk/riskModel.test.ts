import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { levelForScore } from '../../../src/domain/model.js';
import { parseDeploymentJson, parseDeploymentRequest } from '../../../src/domain/request.js';
import { assessRisk, assessRiskDetailed, missingInformation } from '../../../src/domain/risk/engine.js';
import {
  changedLineBits,
  createRiskModel,
  defaultRiskModel,
  probabilityForScore,
  RISK_MODEL_FEATURES,
  RiskModelError,
  rawRiskFeatures,
} from '../../../src/domain/risk/riskModel.js';

const SEED = readFileSync(new URL('../../fixtures/deployment-example.json', import.meta.url), 'utf8');
const params = defaultRiskModel().params;

const wire = (changes: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  parseDeploymentRequest({
    deployment_id: 'd',
    service_name: 'checkout',
    environment: 'production',
    version: '2.4.0',
    rollback_capability: true,
    changes,
    ...extra,
  });

describe('the committed model (risk-model.v4.json)', () => {
  it('has non-negative weights; a rule weighs ln of its lower bound only when its lift replicates', () => {
    for (const f of params.features) expect(f.coefficient).toBeGreaterThanOrEqual(0);
    expect(params.features.map((f) => f.name)).toEqual([...RISK_MODEL_FEATURES]);
    for (const r of params.pathRules) {
      expect(r.coefficient).toBeGreaterThanOrEqual(0);
      const replicated = r.projectsWithLift >= 2;
      expect(r.coefficient).toBeCloseTo(replicated ? Math.log(Math.max(1, r.lowerBound)) : 0, 4);
      expect(r.lowerBound).toBeLessThanOrEqual(r.ratio);
      expect(r.projectsWithLift).toBeLessThanOrEqual(r.projects);
    }
    // Words of everyday code names carry no points (the issue's examples): their lift is not above 1.
    for (const id of ['word:api', 'word:db', 'word:container', 'word:cache', 'word:volume', 'word:s3']) {
      expect(params.pathRules.find((r) => r.id === id)?.coefficient ?? 0).toBe(0);
    }
  });

  it('puts the level thresholds at odds 1:4, 1:2 and 1:1 of a later bug fix', () => {
    expect(probabilityForScore(30)).toBeCloseTo(0.2, 3);
    expect(probabilityForScore(50)).toBeCloseTo(1 / 3, 3);
    expect(probabilityForScore(70)).toBeCloseTo(0.5, 6);
  });

  it('refuses parameters that would break monotonicity, naming the field', () => {
    const bad = structuredClone(params) as { features: { coefficient: number }[] };
    (bad.features[0] as { coefficient: number }).coefficient = -0.1;
    expect(() => createRiskModel(bad)).toThrow(RiskModelError);
    expect(() => createRiskModel(bad)).toThrow(/features\.0\.coefficient/);
    const fix = structuredClone(params) as { issueReference: { coefficient: number; trainingShare: number } };
    fix.issueReference.coefficient = -0.5;
    expect(() => createRiskModel(fix)).toThrow(/issueReference\.coefficient/);
    fix.issueReference.coefficient = 0.5;
    fix.issueReference.trainingShare = 1.5;
    expect(() => createRiskModel(fix)).toThrow(/issueReference\.trainingShare/);
  });

  it('carries the fix weight fitted on the data, and the share of fixes it was fitted on', () => {
    expect(params.issueReference.trainedOn).toBe('fix');
    expect(params.issueReference.coefficient).toBeGreaterThan(0);
    expect(params.issueReference.trainingShare).toBeGreaterThan(0);
    expect(params.issueReference.trainingShare).toBeLessThan(1);
  });
});

describe('the score is the model', () => {
  it('is the sum of the findings plus context points, each finding traceable to a feature or a measured rule', () => {
    const seedFixing = JSON.stringify({ ...JSON.parse(SEED), commit_messages: ['Fix rounding\n\nBug: 12345'] });
    for (const text of [
      SEED,
      seedFixing,
      readFileSync(new URL('../fixtures/prior-cli-default.json', import.meta.url), 'utf8'),
    ]) {
      const b = assessRiskDetailed(parseDeploymentJson(text));
      const sum = b.assessment.findings.reduce((s, f) => s + f.points, 0);
      expect(b.assessment.score).toBeCloseTo(Math.min(100, Math.round((sum + b.contextPoints) * 10) / 10), 6);
      for (const f of b.model.factors) {
        if (f.points > 0) expect(params.pathRules.some((r) => r.id === f.rule?.id && r.coefficient > 0)).toBe(true);
      }
      const fix = b.assessment.findings.find((f) => f.factor === 'fixes_tracked_issue');
      if (text === seedFixing) expect(fix?.points).toBeGreaterThan(0);
      expect(fix?.points ?? 0).toBeCloseTo(
        b.model.issueReference.state.kind === 'references'
          ? Math.round(params.points.pointsPerLogOdds * params.issueReference.coefficient * 10) / 10
          : 0,
        6,
      );
    }
  });

  it('gives no points to a factor raised only by words (descriptions, tags, diffs): evidence only', () => {
    const said = assessRisk(
      wire([{ file_path: 'src/x.ts', change_type: 'modify', lines_changed: 5, description: 'schema migration' }]),
    );
    const plain = assessRisk(wire([{ file_path: 'src/x.ts', change_type: 'modify', lines_changed: 5 }]));
    const db = said.findings.find((f) => f.factor === 'database_migration');
    expect(db?.points).toBe(0);
    expect(db?.summary).toContain('evidence only');
    expect(said.score).toBe(plain.score);
  });

  it('adds k × the weight of the strongest measured rule that raised a factor, and nothing else', () => {
    // A model where the package-manifest rule had replicated lift (ratio 1.5, lower bound 1.3).
    const withLift = structuredClone(params);
    withLift.pathRules = [
      {
        id: 'path:package manifest',
        factor: 'dependency_update',
        commits: 500,
        observed: 150,
        expected: 100,
        ratio: 1.5,
        lowerBound: 1.3,
        projects: 3,
        projectsWithLift: 3,
        coefficient: Math.log(1.3),
      },
    ];
    const model = createRiskModel(withLift);
    const manifest = wire([{ file_path: 'package.json', change_type: 'modify', lines_changed: 5 }]);
    const plain = wire([{ file_path: 'src/x.ts', change_type: 'modify', lines_changed: 5 }]);
    const b = assessRiskDetailed(manifest, { model });
    const dep = b.assessment.findings.find((f) => f.factor === 'dependency_update');
    expect(dep?.points).toBeCloseTo(Math.round(params.points.pointsPerLogOdds * Math.log(1.3) * 10) / 10, 6);
    expect(dep?.summary).toContain('package manifest: 1.5× the bug-inducing rate expected for its size');
    expect(b.model.factors.find((f) => f.factor === 'dependency_update')?.rule?.id).toBe('path:package manifest');
    // Same size, no rule: the difference is exactly the rule's points.
    const without = assessRisk(plain, { model });
    expect(b.assessment.score - without.score).toBeCloseTo(dep?.points ?? Number.NaN, 6);
    // The committed model, where the rule did not replicate, gives it nothing.
    expect(assessRisk(manifest).findings.find((f) => f.factor === 'dependency_update')?.points).toBe(0);
  });

  it('does not depend on the environment: production chooses the policy row, not the ranking', () => {
    const changes = [{ file_path: 'src/x.ts', change_type: 'modify', lines_added: 40, lines_deleted: 3 }];
    const prod = assessRisk(wire(changes));
    const staging = assessRisk(wire(changes, { environment: 'staging' }));
    expect(prod.score).toBe(staging.score);
  });

  it('model features never decrease when a change is added', () => {
    const change = fc.record({
      file_path: fc.constantFrom('src/a.ts', 'docs/x.md', 'tox.ini', 'src/b/c.go', 'src/b/d.go', 'test/a.test.ts', ''),
      change_type: fc.constantFrom('add', 'modify', 'delete'),
      lines_added: fc.nat({ max: 500 }),
      lines_deleted: fc.nat({ max: 500 }),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 5 }), change, (base, extra) => {
        const keep = base.filter((c) => c.file_path !== '');
        const add = extra.file_path === '' ? { ...extra, file_path: 'src/z.ts' } : extra;
        const before = rawRiskFeatures(wire(keep));
        const after = rawRiskFeatures(wire([...keep, add]));
        for (const f of RISK_MODEL_FEATURES) expect(after[f]).toBeGreaterThanOrEqual(before[f]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('spread features read from paths and line counts', () => {
  it('counts shipping lines, lines rewritten in place and the directories of files that ship', () => {
    const raw = rawRiskFeatures(
      wire([
        { file_path: 'src/api/handler.go', change_type: 'modify', lines_added: 30, lines_deleted: 10 },
        { file_path: 'src/api/routes.go', change_type: 'modify', lines_added: 4, lines_deleted: 6 },
        { file_path: 'src/db/store.go', change_type: 'add', lines_added: 50, lines_deleted: 0 },
        { file_path: 'src/api/handler_test.go', change_type: 'modify', lines_added: 40, lines_deleted: 2 },
      ]),
    );
    expect(raw).toMatchObject({
      shippingLinesAdded: 84,
      shippingLinesChanged: 100,
      rewrittenLines: 10 + 4 + 2,
      shippingDirectories: 2, // src/api and src/db; the test file ships nothing
    });
  });

  it('changedLineBits is the lines times the entropy of their spread, and grows where entropy falls', () => {
    expect(changedLineBits([10])).toBe(0);
    expect(changedLineBits([5, 5])).toBeCloseTo(10, 12); // 10 lines × 1 bit
    expect(changedLineBits([1, 1, 1, 1])).toBeCloseTo(8, 12); // 4 lines × 2 bits
    // Two 1-line files: 1 bit of entropy. A 100-line file added: entropy ≈ 0.16 bits, but 102 lines × 0.16 > 2.
    expect(changedLineBits([1, 1, 100])).toBeGreaterThan(changedLineBits([1, 1]));
  });
});

describe('low information is never low risk', () => {
  it('a production request with nothing but a version is at least medium and says what is missing', () => {
    const b = assessRiskDetailed(wire([]));
    expect(levelForScore(b.assessment.score)).toBe('low');
    expect(b.assessment.level).toBe('medium');
    expect(b.floor?.level).toBe('medium');
    const size = b.assessment.findings.find((f) => f.factor === 'change_size_spread');
    expect(size?.evidence[0]?.text).toBe(missingInformation(true));
    expect(missingInformation(true)).toMatch(/held at medium.*git range.*PR link.*deployment JSON with changes/);
    expect(missingInformation(true).length).toBeLessThanOrEqual(160); // shown whole on the card
  });

  it('descriptions or tags alone are still too little; outside production the score decides', () => {
    const prose = assessRiskDetailed(wire([], { commit_messages: ['tweak the cache'] }));
    expect(prose.assessment.level).toBe('medium');
    const staging = assessRiskDetailed(wire([], { environment: 'staging' }));
    expect(staging.assessment.level).toBe('low');
    expect(staging.floor).toBeUndefined();
    const size = staging.assessment.findings.find((f) => f.factor === 'change_size_spread');
    expect(size?.evidence[0]?.text).toBe(missingInformation(false));
  });

  it('files with line counts lift the floor: a small known change in production can be low', () => {
    const b = assessRiskDetailed(wire([{ file_path: 'src/x.ts', change_type: 'modify', lines_added: 2 }]));
    expect(b.floor).toBeUndefined();
    expect(b.assessment.level).toBe(levelForScore(b.assessment.score));
  });
});
