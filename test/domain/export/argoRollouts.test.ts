import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { assessDeployment } from '../../../src/domain/contract.js';
import { exportToArgoRollouts } from '../../../src/domain/export/argoRollouts.js';
import { DEFAULT_POLICY } from '../../../src/domain/policy.js';
import { parseDeploymentJson } from '../../../src/domain/request.js';

// biome-ignore lint/suspicious/noExplicitAny: YAML documents are read back untyped and checked field by field
type Yaml = Record<string, any>;

const seed = readFileSync(new URL('../../fixtures/deployment-example.json', import.meta.url), 'utf8');

describe('exportToArgoRollouts', () => {
  const contract = assessDeployment(parseDeploymentJson(seed), DEFAULT_POLICY, {
    now: new Date('2026-11-24T10:00:00Z'),
  });
  const exported = exportToArgoRollouts(contract, {
    prometheusAddress: 'http://prometheus.monitoring:9090',
    verdictBaseUrl: 'https://chaos.example.com/',
  });
  // Round-trip through YAML, as `chaos export argo` writes it and kubectl reads it.
  const docs = parseAllDocuments(`${stringify(exported.analysisTemplate)}---\n${stringify(exported.rolloutPatch)}`).map(
    (d) => d.toJS(),
  );
  const [template, rollout] = docs as [Yaml, Yaml];

  it('writes an AnalysisTemplate with one metric per guardrail plus the judge', () => {
    expect(template.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(template.kind).toBe('AnalysisTemplate');
    expect(template.metadata.annotations['chaos-negotiator/content-hash']).toBe(contract.contentHash);
    const names = template.spec.metrics.map((m: { name: string }) => m.name);
    expect(names).toEqual([...contract.terms.guardrails.map((g) => g.metric.replace(/_/g, '-')), 'chaos-judge']);
    expect(template.spec.args).toContainEqual({ name: 'service-name', value: 'payment-service' });
  });

  it('turns each guardrail into success and failure conditions with the contract limits', () => {
    const errorGuardrail = contract.terms.guardrails.find((g) => g.metric === 'error_rate')!;
    const metric = template.spec.metrics.find((m: { name: string }) => m.name === 'error-rate');
    const bound = errorGuardrail.threshold / 100;
    expect(metric.successCondition).toBe(`len(result) == 0 || isNaN(result[0]) || result[0] < ${bound}`);
    expect(metric.failureCondition).toBe(`len(result) > 0 && !isNaN(result[0]) && result[0] >= ${bound}`);
    expect(metric.failureLimit).toBe(contract.terms.ramp.cumulativeFailureLimit - 1);
    expect(metric.interval).toBe(`${contract.terms.ramp.analysisIntervalSeconds}s`);
    expect(metric.provider.prometheus.address).toBe('http://prometheus.monitoring:9090');
    expect(metric.provider.prometheus.query).toContain('code=~"5.."');
    const p99 = contract.terms.guardrails.find((g) => g.metric === 'latency_p99')!;
    const latency = template.spec.metrics.find((m: { name: string }) => m.name === 'latency-p99');
    expect(latency.provider.prometheus.query).toContain('histogram_quantile(0.99');
    expect(latency.failureCondition).toContain(`>= ${p99.threshold}`);
  });

  it('points the judge metric at the verdict endpoint for the Rollout, with the token from a Secret', () => {
    const judge = template.spec.metrics.find((m: { name: string }) => m.name === 'chaos-judge');
    expect(judge.provider.web.url).toBe(
      `https://chaos.example.com/api/argo/verdict/${contract.id}?namespace={{args.namespace}}&rollout={{args.rollout-name}}`,
    );
    expect(judge.provider.web.jsonPath).toBe('{$.verdict}');
    expect(judge.provider.web.headers).toEqual([{ key: 'Authorization', value: 'Bearer {{args.chaos-token}}' }]);
    const args = template.spec.args as Yaml[];
    expect(args).toContainEqual({
      name: 'chaos-token',
      valueFrom: { secretKeyRef: { name: 'chaos-negotiator', key: 'engine-token' } },
    });
    expect(args).toContainEqual({ name: 'rollout-name', value: contract.deployment.target.resourceName });
    // Every {{args.x}} the metric uses is declared.
    const declared = new Set(args.map((a) => a.name));
    for (const [, name] of JSON.stringify(judge).matchAll(/\{\{args\.([\w-]+)\}\}/g)) expect(declared).toContain(name);
  });

  it('makes PASS successful, FAIL failed and HOLD inconclusive, as Argo evaluates the conditions', () => {
    const judge = template.spec.metrics.find((m: { name: string }) => m.name === 'chaos-judge');
    // utils/evaluate/evaluate.go EvaluateResult: failure wins; neither condition true is Inconclusive.
    const holds = (condition: string, result: string) => {
      const match = /^result == "(\w+)"$/.exec(condition);
      if (!match) throw new Error(`unexpected condition ${condition}`);
      return result === match[1];
    };
    const phase = (result: string) =>
      holds(judge.failureCondition, result)
        ? 'Failed'
        : holds(judge.successCondition, result)
          ? 'Successful'
          : 'Inconclusive';
    expect(['PASS', 'HOLD', 'FAIL'].map(phase)).toEqual(['Successful', 'Inconclusive', 'Failed']);
    expect(judge.failureLimit).toBe(0);
    expect(judge.inconclusiveLimit).toBeGreaterThan(0);
  });

  it('writes the ramp as canary steps ending with full traffic and the bake', () => {
    const steps = rollout.spec.strategy.canary.steps as Yaml[];
    const weights = steps.filter((s) => 'setWeight' in s).map((s) => s.setWeight);
    expect(weights).toEqual([...contract.terms.ramp.steps.map((s) => s.trafficPercent), 100]);
    expect(steps[1]).toEqual({ pause: { duration: `${contract.terms.ramp.steps[0]!.minDurationSeconds}s` } });
    expect(steps.at(-1)).toEqual({ pause: { duration: `${contract.terms.ramp.bakeTimeSeconds}s` } });
    expect(rollout.spec.strategy.canary.analysis.templates[0].templateName).toBe(template.metadata.name);
  });
});
