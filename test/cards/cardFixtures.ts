/** Contracts for card tests: an ordinary one and a huge one (2,000 files, every factor with thousands of findings). */
import { applyAmendment, draftContract } from '../../src/domain/contract.js';
import type { Contract, FactorFinding } from '../../src/domain/model.js';
import { RISK_FACTORS } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { FIXED_NOW, makeChange, makeFinding, makeRequest, makeRisk } from '../support/fixtures.js';

export function ordinaryContract(): Contract {
  const request = makeRequest({
    changes: [makeChange('db/migrations/0042_add_index.sql'), makeChange('src/cache/redis.ts')],
  });
  const risk = makeRisk('high', [
    makeFinding('database_migration', [{ file: 'db/migrations/0042_add_index.sql', text: 'migrations/' }], 22),
    makeFinding('caching', [{ source: 'diff', file: 'src/cache/redis.ts', line: 12, text: 'ttl' }], 12),
  ]);
  // Proposed, as every posted card is: a draft is never shown, and the state machine takes no decision on one.
  return { ...draftContract(request, risk, DEFAULT_POLICY, { now: FIXED_NOW }), state: 'negotiating' };
}

export function hugeContract(): Contract {
  const changes = Array.from({ length: 2000 }, (_, i) =>
    makeChange(`services/module-${i % 97}/very/deeply/nested/path/component_${i}_with_a_rather_long_name.ts`, {
      description: `Refactor component ${i} with new database schema, cache invalidation and API changes ${'x'.repeat(80)}`,
      riskTags: ['database', 'api', 'caching'],
    }),
  );
  const findings: FactorFinding[] = RISK_FACTORS.map((factor, k) =>
    makeFinding(
      factor,
      changes.map((c, i) => ({
        source: 'diff' as const,
        file: c.filePath,
        line: i + 1,
        text: `${factor} phrase number ${i} ${'y'.repeat(60)}`,
      })),
      10 + k,
    ),
  );
  const request = makeRequest({ changes, author: 'someone@example.com', ownerTeam: 'A'.repeat(500) });
  const risk = makeRisk('critical', findings, { score: 97.3 });
  let contract = draftContract(request, risk, DEFAULT_POLICY, { now: FIXED_NOW });
  for (const amendment of [
    { kind: 'set_bake_time' as const, seconds: 7200, justification: 'long bake' },
    { kind: 'set_step_duration' as const, seconds: 900, justification: 'longer steps' },
  ]) {
    const result = applyAmendment(contract, amendment, 'negotiator'.repeat(10), DEFAULT_POLICY);
    if (result.ok) contract = result.contract;
  }
  return {
    ...contract,
    suggestions: Array.from({ length: 50 }, (_, i) => ({ text: `suggestion ${i} ${'z'.repeat(300)}` })),
  };
}
