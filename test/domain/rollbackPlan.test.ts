import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeploymentTarget } from '../../src/domain/model.js';
import { planRollback, shellQuote } from '../../src/domain/rollbackPlan.js';
import { makeChange, makeFinding, makeRequest, makeRisk } from '../support/fixtures.js';

const risk = makeRisk('high');

function commands(target: Partial<DeploymentTarget>, extra: Parameters<typeof makeRequest>[0] = {}) {
  const request = makeRequest({
    target: { kind: 'kubernetes', namespace: 'shop', resourceName: 'checkout', ...target },
    ...extra,
  });
  return planRollback(request, risk);
}

describe('planRollback: targets', () => {
  it('kubernetes: rollout undo then status, with the real namespace and name', () => {
    const plan = commands({});
    expect(plan).toMatchObject({ targetKind: 'kubernetes', possible: true, dataLossRisk: 'none' });
    expect(plan.steps.map((s) => s.command)).toEqual([
      'kubectl -n shop rollout undo deployment/checkout',
      'kubectl -n shop rollout status deployment/checkout --timeout=300s',
    ]);
    expect(plan.steps.map((s) => s.dependsOn)).toEqual([[], [1]]);
    expect(plan.steps.map((s) => s.order)).toEqual([1, 2]);
    expect(plan.totalSeconds).toBe(150);
    expect(plan.windowSeconds).toBe(300);
    expect(JSON.stringify(plan)).not.toContain('user-service');
  });

  it('argo-rollouts: abort, undo, status', () => {
    const plan = commands({ kind: 'argo-rollouts', namespace: 'payments', resourceName: 'ledger' });
    expect(plan.steps.map((s) => s.command)).toEqual([
      'kubectl argo rollouts -n payments abort ledger',
      'kubectl argo rollouts -n payments undo ledger',
      'kubectl argo rollouts -n payments status ledger --timeout 300s',
    ]);
  });

  it('azure-container-apps: traffic to the previous revision, deactivate the new one, check health', () => {
    const plan = commands(
      { kind: 'azure-container-apps', namespace: 'rg-shop(prod)', resourceName: 'checkout' },
      { version: 'v2.4.0', previousVersion: 'v2.3.9' },
    );
    expect(plan.possible).toBe(true);
    expect(plan.steps.map((s) => s.command)).toEqual([
      "az containerapp ingress traffic set -g 'rg-shop(prod)' -n checkout --revision-weight checkout--v2-3-9=100 checkout--v2-4-0=0",
      "az containerapp revision deactivate -g 'rg-shop(prod)' -n checkout --revision checkout--v2-4-0",
      "az containerapp revision show -g 'rg-shop(prod)' -n checkout --revision checkout--v2-3-9 --query properties.healthState -o tsv",
    ]);
    const unknown = commands(
      { kind: 'azure-container-apps', namespace: 'rg', resourceName: 'checkout' },
      { previousVersion: undefined },
    );
    expect(unknown.possible).toBe(false);
    expect(unknown.reasons[0]).toContain('the previous version is unknown');
  });

  it('custom: the operator’s own commands', () => {
    const plan = commands({
      kind: 'custom',
      customRollbackCommand: './deploy.sh --rollback checkout',
      customHealthCommand: 'curl -fsS http://checkout/healthz',
    });
    expect(plan.steps.map((s) => s.command)).toEqual([
      './deploy.sh --rollback checkout',
      'curl -fsS http://checkout/healthz',
    ]);
    expect(commands({ kind: 'custom' }).possible).toBe(false);
  });

  it('is not possible without rollback capability, and says why', () => {
    const plan = commands({}, { rollbackCapability: false });
    expect(plan).toMatchObject({ possible: false, steps: [], totalSeconds: 0, windowSeconds: 0 });
    expect(plan.reasons[0]).toMatch(/declares no way back \(add rollback=true/);
  });
});

describe('planRollback: extra steps', () => {
  it('turns the flag off first, flushes caches and runs the migration down after the old version is healthy', () => {
    const request = makeRequest({
      featureFlag: 'new-ledger',
      dependencies: [
        {
          serviceName: 'redis-main',
          serviceType: 'cache',
          criticality: 'high',
          averageLatencyMs: 2,
          errorRatePercent: 0,
        },
      ],
      changes: [
        makeChange('alembic/versions/0042_add_ledger.py', { changeType: 'add' }),
        makeChange('src/cache/client.py'),
      ],
    });
    const plan = planRollback(
      request,
      makeRisk('critical', [makeFinding('database_migration'), makeFinding('caching')]),
    );
    expect(plan.steps.map((s) => [s.order, s.command, s.dependsOn])).toEqual([
      [1, '', []],
      [2, 'kubectl -n shop rollout undo deployment/checkout', []],
      [3, 'kubectl -n shop rollout status deployment/checkout --timeout=300s', [2]],
      [4, '', [3]],
      [5, 'alembic downgrade -1', [3]],
    ]);
    expect(plan.steps[0]?.description).toContain("'new-ledger'");
    expect(plan.steps[0]?.validation).toMatch(/^manual:/);
    expect(plan.steps[3]?.description).toContain('redis-main');
    expect(plan.totalSeconds).toBe(30 + 30 + 120 + 60 + 120);
    expect(plan.windowSeconds).toBe(720);
    expect(plan.dataLossRisk).toBe('medium');
  });

  it.each([
    ['db/migrate/20261124_add_ledger.rb', 'bin/rails db:rollback STEP=1'],
    ['billing/migrations/0042_add_ledger.py', 'python manage.py migrate billing 0041'],
    ['billing/migrations/0001_initial.py', 'python manage.py migrate billing zero'],
    ['db/migrations/20261124_add_ledger.ts', 'npx knex migrate:rollback'],
    ['sql/V42__add_ledger.sql', 'flyway undo'],
    ['db/schema/changes.sql', ''],
  ])('migration down for %s: %j', (path, command) => {
    const plan = planRollback(
      makeRequest({ changes: [makeChange(path, { changeType: 'add' })] }),
      makeRisk('high', [makeFinding('database_migration')]),
    );
    expect(plan.steps.at(-1)?.command).toBe(command);
  });
});

describe('planRollback: data-loss risk', () => {
  const migration = (text: string, file = 'db/migrations/0042.sql') =>
    makeFinding('database_migration', [{ source: 'diff', file, line: 3, text }]);

  it('high for destructive statements in the evidence or the added lines, or a deleted migration', () => {
    expect(
      planRollback(makeRequest(), makeRisk('high', [migration('ALTER TABLE orders DROP COLUMN legacy_id')]))
        .dataLossRisk,
    ).toBe('high');
    const added = makeRequest({
      changes: [makeChange('db/migrations/0042.sql', { addedLines: [{ line: 7, text: 'TRUNCATE audit_log;' }] })],
    });
    const plan = planRollback(added, makeRisk('high', [migration('CREATE TABLE x')]));
    expect(plan.dataLossRisk).toBe('high');
    expect(plan.reasons.at(-1)).toContain('db/migrations/0042.sql:7');
    const deleted = makeRequest({ changes: [makeChange('db/migrations/0007.sql', { changeType: 'delete' })] });
    expect(planRollback(deleted, makeRisk('high', [migration('0007')])).dataLossRisk).toBe('high');
  });

  it('medium for a schema change, low for deleted files, none otherwise; kept when rollback is impossible', () => {
    expect(planRollback(makeRequest(), makeRisk('high', [migration('ADD COLUMN')])).dataLossRisk).toBe('medium');
    const deleted = makeRequest({ changes: [makeChange('src/old.ts', { changeType: 'delete' })] });
    expect(planRollback(deleted, risk).dataLossRisk).toBe('low');
    expect(
      planRollback(makeRequest({ rollbackCapability: false }), makeRisk('high', [migration('DELETE FROM users')]))
        .dataLossRisk,
    ).toBe('high');
    expect(planRollback(makeRequest(), risk).dataLossRisk).toBe('none');
  });
});

describe('planRollback: names cannot inject shell syntax', () => {
  it('refuses names that are not valid for the platform', () => {
    for (const name of ['checkout; rm -rf /', 'Checkout', '$(whoami)', '-n', 'a b']) {
      const plan = commands({ resourceName: name });
      expect(plan.possible).toBe(false);
      expect(plan.reasons[0]).toContain('refusing to build commands');
    }
    expect(commands({ namespace: 'shop`id`' }).possible).toBe(false);
    expect(commands({ kind: 'azure-container-apps', namespace: 'rg;ls', resourceName: 'checkout' }).possible).toBe(
      false,
    );
  });

  it('never produces shell metacharacters outside quotes, whatever the names (property)', () => {
    const kinds = fc.constantFrom<DeploymentTarget['kind']>('kubernetes', 'argo-rollouts', 'azure-container-apps');
    fc.assert(
      fc.property(
        kinds,
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 20 }),
        (kind, namespace, name, version) => {
          const plan = commands(
            { kind, namespace, resourceName: name },
            { version, previousVersion: `${version}-prev` },
          );
          for (const step of plan.steps) {
            const unquoted = step.command.replace(/'[^']*'/g, '');
            expect(unquoted).not.toMatch(/[;&|$`<>\\"\n(){}*?!#~]/);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('shellQuote round-trips through single quotes', () => {
    expect(shellQuote('plain-name_1.2')).toBe('plain-name_1.2');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('a b')).toBe("'a b'");
  });
});
