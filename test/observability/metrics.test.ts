import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, metricsExposition, timeHttpRequest, timeModelRequest } from '../../src/observability/index.js';

/** The value of the series `name` whose labels include all of `labels` (label order is prom-client's business). */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('metrics', () => {
  it('exposes every product metric with zeroed known labels', async () => {
    const metrics = createMetrics({ collectDefaults: false });
    const { contentType, body } = await metricsExposition(metrics);
    expect(contentType).toContain('text/plain');
    for (const name of [
      'chaos_contracts_created_total',
      'chaos_decisions_total',
      'chaos_rollouts_total',
      'chaos_judge_verdicts_total',
      'chaos_negotiation_turns_total',
      'chaos_model_request_duration_seconds',
      'chaos_http_request_duration_seconds',
    ]) {
      expect(body).toContain(`# TYPE ${name}`);
    }
    expect(body).toContain('chaos_contracts_created_total{level="critical"} 0');
    expect(body).toContain('chaos_judge_verdicts_total{verdict="FAIL"} 0');
  });

  it('counts and times', async () => {
    const metrics = createMetrics({ collectDefaults: false, defaultLabels: { replica: 'r1' } });
    metrics.contractsCreated.inc({ level: 'high' });
    metrics.contractsCreated.inc({ level: 'high' });
    metrics.decisions.inc({ outcome: 'approved' });
    metrics.rollouts.inc({ outcome: 'rolled_back' });
    metrics.judgeVerdicts.inc({ verdict: 'HOLD' });
    metrics.negotiationTurns.inc({ mode: 'offline' });
    timeModelRequest(metrics, 'azure-openai')('ok');
    timeHttpRequest(metrics, 'GET')('/api/contracts/:id', 200);
    const { body } = await metricsExposition(metrics.registry);
    expect(body).toContain('chaos_contracts_created_total{level="high",replica="r1"} 2');
    expect(body).toContain('chaos_decisions_total{outcome="approved",replica="r1"} 1');
    expect(body).toContain('chaos_rollouts_total{outcome="rolled_back",replica="r1"} 1');
    expect(body).toContain('chaos_judge_verdicts_total{verdict="HOLD",replica="r1"} 1');
    expect(body).toContain('chaos_negotiation_turns_total{mode="offline",replica="r1"} 1');
    expect(
      sample(body, 'chaos_model_request_duration_seconds_count', { provider: 'azure-openai', outcome: 'ok' }),
    ).toBe(1);
    expect(
      sample(body, 'chaos_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/contracts/:id',
        status_code: '200',
        replica: 'r1',
      }),
    ).toBe(1);
  });

  it('includes process metrics by default and keeps registries separate', async () => {
    const a = createMetrics();
    const b = createMetrics({ collectDefaults: false });
    a.decisions.inc({ outcome: 'rejected' });
    expect((await metricsExposition(a)).body).toContain('chaos_process_cpu_user_seconds_total');
    expect((await metricsExposition(b)).body).toContain('chaos_decisions_total{outcome="rejected"} 0');
    expect(a.registry).toBeInstanceOf(Registry);
  });
});
