/** Readability of the contract card's wording and colours (docs/visual-check.md, defects 1–18). */
import { describe, expect, it } from 'vitest';
import { renderDecisionCard } from '../../src/cards/index.js';
import { applyAmendment, draftContract } from '../../src/domain/contract.js';
import { guardianRolloutPlan } from '../../src/domain/judge/configuration.js';
import type { RiskLevel } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { assessRisk } from '../../src/domain/risk/engine.js';
import { explainRisk } from '../../src/negotiation/explain.js';
import { contractView, personName } from '../../src/views/contractView.js';
import { duration, percent } from '../../src/views/format.js';
import { FIXED_NOW, makeChange, makeFinding, makeRequest, makeRisk } from '../support/fixtures.js';
import { ordinaryContract } from './cardFixtures.js';

const NBSP = '\u00a0';

function contractAt(level: RiskLevel, request = makeRequest()) {
  return draftContract(request, makeRisk(level), DEFAULT_POLICY, { now: FIXED_NOW });
}

describe('contract card wording', () => {
  it('keeps the badge text dark on every level; the header style carries the level', () => {
    const styles = (['critical', 'high', 'medium', 'low'] as const).map((level) => {
      const { risk } = contractView({ contract: contractAt(level) });
      expect(risk.color).toBe('default');
      expect(risk.badge).toBe(`${level.toUpperCase()} RISK`);
      expect(risk.level).toBe(level);
      return risk.style;
    });
    expect(styles).toEqual(['attention', 'warning', 'accent', 'good']);
  });

  it('never uses the pale warning/good text colours', () => {
    const view = contractView({ contract: ordinaryContract() });
    for (const v of view.validators) expect(['attention', 'default']).toContain(v.color);
    expect(['attention', 'default']).toContain(view.canaryEvidenceColor);
  });

  it('puts a no-break space before every percent sign it writes', () => {
    expect(percent(76)).toBe(`76${NBSP}%`);
    const view = contractView({ contract: ordinaryContract() });
    expect(view.risk.scoreLine).toBe(`score 60/100 · confidence 80${NBSP}%`);
    expect(view.ramp).not.toMatch(/\d %/);
  });

  it('states the planned time on the ramp line, as the guardian plans the rollout', () => {
    for (const request of [makeRequest(), makeRequest({ slo: { currentQps: 2, currentErrorRatePercent: 0.2 } })]) {
      const contract = contractAt('high', request);
      const { slo } = contract.deployment;
      const planned = guardianRolloutPlan(
        { ...contract.terms, targetErrorRatePercent: slo.targetErrorRatePercent },
        { serviceQps: slo.currentQps, today: slo },
      ).seconds;
      expect(contract.canaryEvidence.plannedSeconds).toBe(planned);
      expect(contractView({ contract }).ramp).toMatch(new RegExp(`; planned ~${duration(planned)} if healthy$`));
    }
  });

  it('says the traffic is unknown instead of "~0 users", and names a missing canary', () => {
    const unknown = contractView({ contract: contractAt('high', makeRequest({ slo: { currentQps: 0 } })) });
    expect(unknown.facts.find((f) => f.title === 'Exposure')?.value).toBe(
      `10${NBSP}% of traffic, users unknown (no traffic figure)`,
    );
    expect(unknown.canaryEvidence).toMatch(/^No traffic figure: [\d,]+ requests are enough to catch a [\d.]+ pp rise/);
    const known = contractView({ contract: contractAt('high') });
    expect(known.facts.find((f) => f.title === 'Exposure')?.value).toBe(`10${NBSP}% of traffic, ~1,200 users`);
    const low = contractAt('low');
    const noCanary = contractView({
      contract: { ...low, terms: { ...low.terms, ramp: { ...low.terms.ramp, steps: [] } } },
    });
    expect(noCanary.facts.find((f) => f.title === 'Exposure')?.value).toMatch(
      new RegExp(`^no canary: straight to 100${NBSP}% with a .+ bake$`),
    );
  });

  it('capitalises factor names and keeps the short canary line free of test jargon, with grouped numbers', () => {
    const view = contractView({ contract: ordinaryContract() });
    expect(view.factors.map((f) => f.label)).toEqual(['Database schema/migration', 'Caching']);
    expect(view.canaryEvidence).toMatch(/^The first step sees ~[\d,]+ requests; [\d,]+ are enough to catch a/);
    expect(view.canaryEvidence).toContain('~210,000 requests');
    expect(view.canaryEvidence).not.toMatch(/binomial|α|power/);
    const detailed = contractView({ contract: ordinaryContract(), detailed: true });
    expect(detailed.canaryEvidence).toContain('binomial');
  });

  it('shows a factor the risk model gives no points as evidence only, not as "+0"', () => {
    const contract = draftContract(
      makeRequest(),
      makeRisk('high', [makeFinding('change_size_spread', [], 42.5), makeFinding('database_migration', [], 0)]),
      DEFAULT_POLICY,
      { now: FIXED_NOW },
    );
    expect(contractView({ contract }).factors.map((f) => [f.label, f.points])).toEqual([
      ['Change size and spread', '+42.5'],
      ['Database schema/migration', 'evidence only'],
    ]);
  });

  it('clips evidence at a word boundary, and generated evidence later than user text', () => {
    const long = 'word '.repeat(60).trim();
    const contract = draftContract(
      makeRequest(),
      makeRisk('high', [
        makeFinding('caching', [{ source: 'path', file: 'a.ts', text: long }], 12),
        makeFinding('change_size_spread', [{ source: 'metrics', text: long }], 20),
      ]),
      DEFAULT_POLICY,
      { now: FIXED_NOW },
    );
    const [metrics, path] = contractView({ contract }).factors;
    expect(metrics?.evidence).toMatch(/^(word ){20,}word…$/);
    expect(metrics?.evidence.length).toBeLessThanOrEqual(160);
    expect(metrics?.evidence.length).toBeGreaterThan(120);
    expect(path?.evidence).toMatch(/^(word ){8,}word… in a\.ts$/);
  });

  it('uses the singular for one file, directory and subsystem', () => {
    const request = makeRequest({ changes: [makeChange('src/app.ts')] });
    const risk = assessRisk(request);
    const size = risk.findings.find((f) => f.factor === 'change_size_spread');
    expect(size).toBeDefined();
    expect(size?.evidence[0]?.text).toMatch(/in 1 file, 1 directory, 1 subsystem \(/);
  });

  it('shows rollback commands without backticks and drops the repeated "manual:" prefix', () => {
    const view = contractView({ contract: ordinaryContract(), detailed: true });
    expect(view.rollbackSteps.length).toBeGreaterThan(0);
    for (const step of view.rollbackSteps) {
      expect(step.detail).not.toContain('`');
      expect(step.check).not.toMatch(/check: manual:/);
      expect(step.hasCommand).toBe(step.command !== '');
    }
    expect(view.rollbackSteps.some((s) => s.hasCommand)).toBe(true);
  });

  it('groups thousands in guardrail thresholds like the other counts', () => {
    const base = contractAt('critical');
    const guardrails = base.terms.guardrails.map((g) => (g.metric === 'latency_p99' ? { ...g, threshold: 1000 } : g));
    const contract = { ...base, terms: { ...base.terms, guardrails } };
    const view = contractView({ contract });
    expect(view.guardrails.find((g) => g.metric === 'p99 latency')?.threshold).toBe(`< 1,000${NBSP}ms`);
    expect(view.guardrails.find((g) => g.metric === 'Error rate')?.threshold).toMatch(/^< 0\.\d+\u00a0%$/);
  });

  it('writes amendment lines in human units', () => {
    const contract = contractAt('critical');
    const result = applyAmendment(
      contract,
      { kind: 'set_bake_time', seconds: 7200, justification: 'j' },
      'U1',
      DEFAULT_POLICY,
    );
    expect(result.ok && result.diff).toEqual(['bake time at 100 %: 1 h → 2 h']);
  });

  it('the decision card says "Risk: critical", not "CRITICAL RISK"', () => {
    const contract = contractAt('critical');
    const card = JSON.stringify(
      renderDecisionCard({ contract, decision: { outcome: 'approved', by: ['Ada'], at: '2026-11-24T09:38:00Z' } }),
    );
    expect(card).toContain('"value":"critical · score 80/100');
    expect(card).not.toContain('CRITICAL RISK');
  });
});

describe('a card after an amendment', () => {
  const entraId = '3f2b8c1e-9a4d-4c7e-b1f0-5d6e7a8b9c0d';
  function amended() {
    const contract = contractAt('high');
    const result = applyAmendment(
      contract,
      { kind: 'set_first_canary_step', percent: 25, justification: 'config only' },
      entraId,
      DEFAULT_POLICY,
    );
    if (!result.ok) throw new Error('amendment refused');
    return result.contract;
  }

  it('follows the current revision on the Exposure line and in the canary evidence', () => {
    const contract = amended();
    expect(contract.risk.affected.canarySharePercent).toBe(10);
    const view = contractView({ contract });
    expect(view.facts.find((f) => f.title === 'Exposure')?.value).toBe(`25${NBSP}% of traffic, ~3,000 users`);
    expect(view.ramp).toMatch(new RegExp(`^25${NBSP}% → `));
    expect(view.canaryEvidence).toMatch(/^The first step sees ~[\d,]+ requests/);
    const explained = explainRisk(contract);
    expect(explained).toContain('At the first canary step (25 %)');
    expect(explained).not.toContain('(10 %)');
  });

  it('names the person who amended it, never the raw Entra object id', () => {
    const named = contractView({ contract: amended(), people: { [entraId]: 'Ada Lovelace' } });
    expect(named.amendments.map((a) => a.text)).toEqual([
      '• First canary step: 10 % → 25 % (Ada Lovelace)',
      '• Ramp: 10/25/50/100 % → 25/50/100 % (Ada Lovelace)',
    ]);
    const unknown = contractView({ contract: amended() });
    expect(JSON.stringify(unknown)).not.toContain(entraId);
    expect(unknown.amendments[0]?.text).toContain('(a chat participant)');
    expect(personName('ada@example.com', {})).toBe('ada@example.com');
    expect(personName('U024BE7LH', {})).toBe('a chat participant');
  });
});
