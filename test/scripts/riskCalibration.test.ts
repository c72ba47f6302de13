import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../scripts/calibrate.js';
import {
  baseRateShift,
  effortAwareRecall,
  fitRiskModel,
  measureRules,
  messageForFixLabel,
  type PathCommit,
  type PathProject,
  parseCommitFiles,
  RiskFitCache,
  requestForCommit,
  shippedScorer,
} from '../../scripts/riskCalibration.js';
import { assessRisk } from '../../src/domain/risk/engine.js';
import { detectFactors } from '../../src/domain/risk/factors.js';
import { rawRiskFeatures } from '../../src/domain/risk/riskModel.js';

const HEADER = 'commit_id,repo,path,added,deleted';

describe('parseCommitFiles', () => {
  it('groups rows by commit, keeps commas inside paths and reads binary files (-) as 0 lines', () => {
    const files = parseCommitFiles(
      `${HEADER}\nabc,qtbase,src/a,b.cpp,3,1\nabc,qtbase,img/logo.png,-,-\ndef,qtbase,README,0,2\n`,
      'qt_commit_files.csv',
    );
    expect(files.get('abc')).toEqual([
      { repo: 'qtbase', path: 'src/a,b.cpp', added: 3, deleted: 1 },
      { repo: 'qtbase', path: 'img/logo.png', added: 0, deleted: 0 },
    ]);
    expect(files.get('def')?.length).toBe(1);
  });

  it('names the file and line of bad input', () => {
    expect(() => parseCommitFiles('id,path\n', 'x.csv')).toThrow(/x\.csv: expected the header/);
    expect(() => parseCommitFiles(`${HEADER}\nabc,r,p,x,1\n`, 'x.csv')).toThrow(/x\.csv line 2: line count "x"/);
    expect(() => parseCommitFiles(`${HEADER}\nabc,r\n`, 'x.csv')).toThrow(/x\.csv line 2: expected 5 fields/);
  });
});

describe('a commit as a deployment request', () => {
  it('goes through the product: spread from its files, factors from its paths, a score from the engine', () => {
    const request = requestForCommit('c0ffee', [
      { repo: 'r', path: 'go.mod', added: 2, deleted: 1 },
      { repo: 'r', path: 'src/net/http/server.go', added: 40, deleted: 10 },
      { repo: 'r', path: 'src/net/http/server_test.go', added: 30, deleted: 0 },
    ]);
    expect(request.spread).toMatchObject({ linesAdded: 72, linesDeleted: 11, files: 3 });
    expect(rawRiskFeatures(request)).toMatchObject({ shippingLinesChanged: 53, linesAddedToEditedFiles: 42 });
    const rules = detectFactors(request).flatMap((d) => [...d.pathRules]);
    expect(rules).toContain('path:dependency manifest');
    expect(assessRisk(request).score).toBeGreaterThan(0);
  });
});

describe('evaluation helpers', () => {
  it('effort-aware recall reads commits by decreasing score until the line budget is spent', () => {
    const commit = (changedLines: number, bug: 0 | 1) => ({ changedLines, bug }) as PathCommit;
    const commits = [commit(10, 1), commit(80, 1), commit(5, 0), commit(5, 1)];
    // Budget 20 % of 100 lines: the 10-line bug (score 3), then the 5-line clean one (score 2); the 80-line one does
    // not fit and reading stops there.
    expect(effortAwareRecall([3, 2.5, 2, 1], commits, 0.2)).toBeCloseTo(1 / 3, 9);
    expect(effortAwareRecall([1, 1, 1, 1], commits, 0.2)).toBeCloseTo(2 / 3, 9); // ties: fewer lines first
  });

  it('the base-rate shift makes the expected count equal the observed one', () => {
    const eta = [-2, -1, 0, 1, 2, -3];
    const shift = baseRateShift(eta, 4);
    const expected = eta.reduce((s, e) => s + 1 / (1 + Math.exp(-(e + shift))), 0);
    expect(expected).toBeCloseTo(4, 8);
  });
});

/**
 * Synthetic projects: bug log-odds = base + 0.5·log1p(lines), ×3 odds when a lock file (go.sum) is touched, ×2 when
 * the commit is a fix (30 % of them).
 */
function syntheticProject(name: string, base: number, n: number, seed: number): PathProject {
  const random = seededRandom(seed);
  const commits: PathCommit[] = [];
  for (let i = 0; i < n; i++) {
    const lines = Math.floor(Math.exp(random() * 6));
    const risky = random() < 0.15;
    const noise = random() < 0.15;
    const files = [{ repo: name, path: `src/m${i % 7}.c`, added: lines, deleted: Math.floor(lines / 3) }];
    // Every commit touches two files in two directories, so file and directory counts do not tell the risky ones
    // apart.
    files.push({ repo: name, path: risky ? 'go.sum' : `n${i % 5}.c`, added: 1, deleted: 1 });
    if (noise) files.push({ repo: name, path: 'src/cache/x.c', added: 1, deleted: 1 });
    const fix = random() < 0.3 ? 1 : 0;
    const eta = base + 0.5 * Math.log1p(lines) + (risky ? Math.log(3) : 0) + (fix ? Math.log(2) : 0);
    const bug = random() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
    const request = requestForCommit(`${name}${i}`, files, [messageForFixLabel(fix)]);
    const rules = new Set<string>();
    for (const d of detectFactors(request, { maxEvidence: 1 })) for (const r of d.pathRules) rules.add(r);
    commits.push({
      id: `${name}${i}`,
      date: i,
      bug,
      fix,
      request,
      raw: rawRiskFeatures(request),
      rules: [...rules],
      la: request.spread.linesAdded,
      churn: request.spread.linesAdded + request.spread.linesDeleted,
      nf: request.spread.files,
      changedLines: request.spread.linesAdded + request.spread.linesDeleted,
    });
  }
  return {
    name,
    commits,
    test: commits.slice(Math.floor(n * 0.8)),
    totalCommits: n,
    unresolved: { commits: 0, test: 0 },
  };
}

describe('rule lifts and the fitted model (synthetic history)', () => {
  const projects = [
    syntheticProject('a', -4, 1500, 1),
    syntheticProject('b', -3.5, 1500, 2),
    syntheticProject('c', -4.5, 1500, 3),
  ];

  it('finds the planted lift out of project and gives a rule without lift no weight', () => {
    const rules = measureRules(projects, new RiskFitCache());
    const lock = rules.find((r) => r.id === 'path:dependency lock file');
    const cache = rules.find((r) => r.id === 'word:cache');
    expect(lock?.ratio).toBeGreaterThan(1.5); // odds ×3 at rates of a few per cent
    expect(lock?.coefficient).toBeGreaterThan(0);
    expect(lock?.coefficient).toBeCloseTo(Math.log(lock?.lowerBound ?? 0), 4);
    expect(cache?.coefficient).toBe(0);
  });

  it('produces parameters the product accepts, and the shipped scorer ranks the planted risk higher', () => {
    const { params } = fitRiskModel(projects);
    const score = shippedScorer(params);
    const plain = requestForCommit('x', [{ repo: 'a', path: 'src/m1.c', added: 20, deleted: 5 }]);
    const risky = requestForCommit('y', [
      { repo: 'a', path: 'src/m1.c', added: 20, deleted: 5 },
      { repo: 'a', path: 'go.sum', added: 1, deleted: 1 },
    ]);
    expect(score(risky)).toBeGreaterThan(score(plain));
    for (const f of params.features) expect(f.coefficient).toBeGreaterThanOrEqual(0);
  });

  it('fits the planted fix weight from the fix label, and the product reads it back from the message', () => {
    const { params } = fitRiskModel(projects);
    expect(params.issueReference.coefficient).toBeGreaterThan(0.4);
    expect(params.issueReference.coefficient).toBeLessThan(1.1); // ln 2 = 0.69
    expect(params.issueReference.trainingShare).toBeGreaterThan(0.25);
    expect(params.issueReference.trainingShare).toBeLessThan(0.35);
    const score = shippedScorer(params);
    const files = [{ repo: 'a', path: 'src/m1.c', added: 20, deleted: 5 }];
    const fix = score(requestForCommit('x', files, [messageForFixLabel(1)]));
    const notFix = score(requestForCommit('x', files, [messageForFixLabel(0)]));
    const unknown = score(requestForCommit('x', files));
    expect(fix).toBeGreaterThan(notFix);
    // No message at all scores as a message naming no issue (riskModel.ts: adding a message never lowers the score).
    expect(unknown).toBe(notFix);
  });
});
