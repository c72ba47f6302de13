import { describe, expect, it } from 'vitest';
import { passRequirement, requestsBeforeFirstPass } from '../../../src/domain/judge/passEvidence.js';
import { guardrail } from './fixtures.js';

const settings = { passAlpha: 0.1, power: 0.8 };
/** PetSite's figures over the first 24 h of the PetShop noissue series (the replay benchmark's reference). */
const petSite = { currentErrorRatePercent: 0.226, currentP95LatencyMs: 318.8, currentP99LatencyMs: 483.1 };

describe('passRequirement: the requests a canary as healthy as today needs to PASS a guardrail', () => {
  it('error rate: the one-sided normal approximation at passAlpha with the policy power', () => {
    const r = passRequirement(guardrail('error_rate', 0.4, 500), petSite, settings);
    // (1.2816·√(0.004·0.996) + 0.8416·√(0.00226·0.99774))² / 0.00174² = 4,825.
    expect(r).toEqual({ allowedShare: 0.004, todayShare: 0.00226, requests: 4825 });
  });

  it('the closer today is to the guardrail, the more requests; never below the minimum evidence', () => {
    const near = passRequirement(guardrail('error_rate', 0.3, 500), petSite, settings).requests as number;
    expect(near).toBeGreaterThan(4825);
    expect(passRequirement(guardrail('error_rate', 5, 500), petSite, settings).requests).toBe(500);
  });

  it('a service at or above the guardrail today can never pass it: null', () => {
    expect(passRequirement(guardrail('error_rate', 0.2, 500), petSite, settings).requests).toBeNull();
    expect(passRequirement(guardrail('latency_p95', 300, 200), petSite, settings).requests).toBeNull();
  });

  it('latency: today’s share slower than T read off today’s p95 and p99', () => {
    const p95 = passRequirement(guardrail('latency_p95', 382.5, 200), petSite, settings);
    expect(p95.allowedShare).toBe(0.05);
    expect(p95.todayShare).toBeGreaterThan(0.02);
    expect(p95.todayShare).toBeLessThan(0.03);
    expect(p95.requests).toBeGreaterThan(200);
    const p99 = passRequirement(guardrail('latency_p99', 627.2, 1000), petSite, settings);
    expect(p99.allowedShare).toBe(0.01);
    expect(p99.requests).toBe(1000);
  });

  it('unknown latency today: half the allowance is assumed', () => {
    const unknown = { currentErrorRatePercent: 0, currentP95LatencyMs: 0, currentP99LatencyMs: 0 };
    const r = passRequirement(guardrail('latency_p95', 400, 200), unknown, settings);
    expect(r.todayShare).toBeNull();
    expect(r.requests).toBeGreaterThan(200);
  });
});

describe('requestsBeforeFirstPass', () => {
  it('is the most any guardrail needs, leaving out one that can never pass', () => {
    const guardrails = [
      guardrail('error_rate', 0.4, 500),
      guardrail('latency_p95', 382.5, 200),
      guardrail('latency_p99', 627.2, 1000),
    ];
    expect(requestsBeforeFirstPass(guardrails, petSite, settings)).toBe(4825);
    const hopelessError = [guardrail('error_rate', 0.2, 500), guardrail('latency_p99', 627.2, 1000)];
    expect(requestsBeforeFirstPass(hopelessError, petSite, settings)).toBe(1000);
    expect(requestsBeforeFirstPass([guardrail('error_rate', 0.2, 500)], petSite, settings)).toBeNull();
  });
});
