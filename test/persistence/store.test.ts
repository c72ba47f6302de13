import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatActor } from '../../src/chat/port.js';
import { assessDeployment } from '../../src/domain/contract.js';
import type { Contract } from '../../src/domain/model.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { parseDeploymentJson } from '../../src/domain/request.js';
import type { RolloutRecord } from '../../src/guardian/repository.js';
import type { PersistentStore } from '../../src/persistence/index.js';
import { BACKENDS } from './backends.js';

const seed = readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8');
const author: ChatActor = { id: 'dev-1', displayName: 'Dana Dev', surface: 'teams' };
const sre = (n: number): ChatActor => ({ id: `sre-${n}`, displayName: `SRE ${n}`, surface: 'teams' });

function contract(id = 'ctr-1'): Contract {
  const draft = assessDeployment(parseDeploymentJson(seed), DEFAULT_POLICY, { now: new Date('2026-11-24T10:00:00Z') });
  return { ...draft, id, state: 'negotiating' };
}

const decision = (
  c: Contract,
  actor: ChatActor,
  verb: 'approve' | 'reject',
  revision = c.revision,
  reason?: string,
) => ({
  contractId: c.id,
  revision,
  decision: verb,
  actor,
  idempotencyKey: `${c.id}:${revision}:${actor.id}:contract.${verb}`,
  at: new Date('2026-11-24T10:05:00Z'),
  ...(reason ? { reason } : {}),
  // No approver list: anyone may decide (development), so these tests exercise the store's other rules.
  policy: { approvers: { teams: [], slack: [], groups: {} }, openWhenUnconfigured: true },
});

function rollout(id: string, due: string, overrides: Partial<RolloutRecord> = {}): RolloutRecord {
  const c = contract();
  return {
    id,
    // One active rollout per contract: each test rollout belongs to its own contract.
    contractId: `${c.id}-${id}`,
    revision: 1,
    target: {
      serviceName: 'payment-service',
      namespace: 'default',
      resourceName: 'payment-service',
      canaryVersion: 'v3',
    },
    terms: {
      guardrails: c.terms.guardrails,
      ramp: c.terms.ramp,
      targetErrorRatePercent: 0.1,
      rollbackPlan: c.rollbackPlan,
    },
    state: { phase: 'pending' },
    history: [],
    lastIntervalEnd: due,
    stepStartIndex: 0,
    nextDueAt: due,
    pendingCommands: [],
    latestVerdict: null,
    latestReasons: [],
    latestChecks: [],
    log: [],
    createdAt: due,
    updatedAt: due,
    ...overrides,
  };
}

describe.each(BACKENDS)('store on $name', (backend) => {
  let store: PersistentStore;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(async () => {
    await store.close();
  });

  describe('contracts and revisions', () => {
    it('stores revisions and returns the latest; a revision that does not follow is refused', async () => {
      const c = contract();
      await store.saveRevision(c, author);
      const r2 = { ...c, revision: 2, contentHash: 'h2' };
      await store.saveRevision(r2, author);
      expect((await store.getContract(c.id))?.revision).toBe(2);
      expect((await store.getRevision(c.id, 1))?.contentHash).toBe(c.contentHash);
      await expect(store.saveRevision({ ...c, revision: 2 }, author)).rejects.toThrow(/does not follow/);
      await expect(store.saveRevision(c, author)).rejects.toThrow(/already exists/);
      const recent = await store.recentContracts({ service: 'payment-service', limit: 5 });
      expect(recent.map((x) => x.revision)).toEqual([2]);
      expect(await store.recentContracts({ service: 'nope', limit: 5 })).toEqual([]);
    });
  });

  describe('decisions', () => {
    it('refuses a decision on a stale revision', async () => {
      const c = contract();
      await store.saveRevision(c, author);
      await store.saveRevision({ ...c, revision: 2 }, author);
      const result = await store.recordDecision(decision(c, sre(1), 'approve', 1));
      expect(result.outcome).toBe('stale_revision');
      expect(result.contract.revision).toBe(2);
      expect(await store.approvals(c.id, 1)).toEqual([]);
    });

    it('records the same decision once (double click, retry)', async () => {
      const c = contract();
      await store.saveRevision(c, author);
      const first = await store.recordDecision(decision(c, sre(1), 'approve'));
      const again = await store.recordDecision(decision(c, sre(1), 'approve'));
      expect(first.outcome).toBe('recorded');
      expect(again.outcome).toBe('duplicate');
      expect(await store.approvals(c.id, 1)).toHaveLength(1);
    });

    it('counts two concurrent approvals of a contract that needs two exactly once each', async () => {
      const c = contract();
      expect(c.terms.approvalsRequired).toBe(2);
      await store.saveRevision(c, author);
      const results = await Promise.all([
        store.recordDecision(decision(c, sre(1), 'approve')),
        store.recordDecision(decision(c, sre(2), 'approve')),
        store.recordDecision({ ...decision(c, sre(1), 'approve'), idempotencyKey: 'other-key-same-actor' }),
      ]);
      // The repeated approver either finds its own approval (duplicate) or the quorum already closed the revision.
      expect(results.filter((r) => r.outcome === 'recorded')).toHaveLength(2);
      expect(['duplicate', 'not_open']).toContain(results[2]?.outcome);
      expect(await store.approvals(c.id, 1)).toHaveLength(2);
      expect((await store.getContract(c.id))?.state).toBe('approved');
      const late = await store.recordDecision(decision(c, sre(3), 'approve'));
      expect(late.outcome).toBe('not_open');
    });

    it('refuses self-approval and records a rejection with its reason', async () => {
      const c = contract();
      await store.saveRevision(c, author);
      expect(await store.recordDecision(decision(c, author, 'approve'))).toMatchObject({
        outcome: 'refused',
        refusal: { code: 'self_approval' },
      });
      const rejected = await store.recordDecision(decision(c, sre(1), 'reject', 1, 'no load test'));
      expect(rejected.outcome).toBe('recorded');
      expect(rejected.contract.state).toBe('rejected');
      expect(rejected.rejection).toMatchObject({ actorName: 'SRE 1', reason: 'no load test' });
      expect((await store.getContract(c.id))?.state).toBe('rejected');
    });

    it('moves a contract through rollout states with compare-and-set', async () => {
      const c = { ...contract(), state: 'approved' as const };
      await store.saveRevision(c, author);
      expect(await store.updateState(c.id, 'approved', 'rolling_out')).toBe(true);
      expect(await store.updateState(c.id, 'approved', 'rolling_out')).toBe(false);
      expect((await store.getContract(c.id))?.state).toBe('rolling_out');
    });
  });

  describe('audit log', () => {
    it('chains entries and names an edited or deleted entry', async () => {
      for (let i = 0; i < 5; i++) {
        await store.audit({
          type: 'decision.approved',
          contractId: 'ctr-1',
          revision: 1,
          actor: sre(i),
          at: new Date(),
        });
      }
      expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 5 });
      expect((await store.recentAudit('ctr-1', 2)).map((e) => e.actor?.id)).toEqual(['sre-4', 'sre-3']);
      await store.driver.query(`update audit_log set payload = '{"revision": 2}' where seq = 3`);
      expect(await store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 3 });
    });

    it('notices a deleted entry in the middle and at the end', async () => {
      for (let i = 0; i < 4; i++) await store.audit({ type: 'x', at: new Date() });
      await store.sealAudit();
      await store.driver.query('delete from audit_log where seq = 4');
      expect(await store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 4 });
      await store.driver.query('delete from audit_log where seq = 2');
      expect(await store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 2 });
    });

    it('names an entry forged after the chain head', async () => {
      for (let i = 0; i < 3; i++) await store.audit({ type: 'x', at: new Date() });
      await store.sealAudit();
      await store.driver.query(
        `insert into audit_log (seq, at, actor, action, subject, payload, prev_hash, hash)
         select 4, at, actor, action, subject, payload, hash, hash from audit_log where seq = 3`,
      );
      expect(await store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 4 });
    });

    it('stages entries with their transaction and chains them shortly after, in order', async () => {
      for (let i = 0; i < 3; i++) {
        await store.audit({ type: 'decision.approved', contractId: 'ctr-9', actor: sre(i), at: new Date() });
      }
      // Staged entries are already visible to readers, newest first, before the chainer has run.
      expect((await store.recentAudit('ctr-9', 5)).map((e) => e.actor?.id)).toEqual(['sre-2', 'sre-1', 'sre-0']);
      await expect.poll(async () => (await store.driver.query('select 1 from audit_pending')).length).toBe(0);
      const sealed = await store.driver.query<{ seq: string; payload: { actorName: string } }>(
        'select seq, payload from audit_log order by seq',
      );
      expect(sealed.map((r) => r.payload.actorName)).toEqual(['SRE 0', 'SRE 1', 'SRE 2']);
      await store.audit({ type: 'decision.approved', contractId: 'ctr-9', actor: sre(3), at: new Date() });
      // One sealed and one pending entry read as one list.
      expect((await store.recentAudit('ctr-9', 2)).map((e) => e.actor?.id)).toEqual(['sre-3', 'sre-2']);
      expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 4, pending: 0 });
    });

    it('records a decision and its audit entry in one transaction, chained once sealed', async () => {
      const c = contract('ctr-audited');
      await store.saveRevision(c, author);
      expect((await store.recordDecision(decision(c, sre(1), 'approve'))).outcome).toBe('recorded');
      expect((await store.recordDecision(decision(c, sre(1), 'approve'))).outcome).toBe('duplicate');
      const [entry] = await store.recentAudit('ctr-audited', 5);
      expect(entry).toMatchObject({ type: 'decision.approved', revision: 1, data: { approvals: 1 } });
      expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 1, pending: 0 });
    });
  });

  describe('rollout leases', () => {
    it('never lets two workers hold the same rollout, and takes over a lease expired on the database clock', async () => {
      const now = new Date('2026-11-24T10:00:00Z');
      const leaseMs = 400;
      for (let i = 0; i < 20; i++) await store.rollouts.create(rollout(`ro-${i}`, now.toISOString()));
      const [a, b] = await Promise.all([
        store.rollouts.claimDue('a', now, leaseMs, 15),
        store.rollouts.claimDue('b', now, leaseMs, 15),
      ]);
      const ids = [...a, ...b].map((c) => c.record.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(20);
      // The worker's clock does not decide: a day later by its clock, the leases still run on the database's.
      expect(await store.rollouts.claimDue('c', new Date(now.getTime() + 86_400_000), leaseMs, 50)).toHaveLength(0);
      await new Promise((resolve) => setTimeout(resolve, leaseMs + 50));
      expect(await store.rollouts.renewLease(a[0]!.record.id, a[0]!.leaseToken, leaseMs)).toBe(false);
      const later = await store.rollouts.claimDue('c', now, leaseMs, 50);
      expect(later).toHaveLength(20);
      const stale = a[0]!;
      expect(await store.rollouts.save(stale.record, stale.leaseToken, 0)).toBe(false);
      const fresh = later.find((c) => c.record.id === stale.record.id)!;
      expect(
        await store.rollouts.save({ ...fresh.record, nextDueAt: '2026-11-24T11:00:00.000Z' }, fresh.leaseToken, 0),
      ).toBe(true);
    });

    it('keeps commands queued during a lease for the next claim', async () => {
      const now = new Date('2026-11-24T10:00:00Z');
      await store.rollouts.create(rollout('ro-x', now.toISOString(), { pendingCommands: [{ type: 'start' }] }));
      const [claim] = await store.rollouts.claimDue('a', now, 30_000, 1);
      expect(claim?.record.pendingCommands).toEqual([{ type: 'start' }]);
      await store.rollouts.enqueueCommand('ro-x', { type: 'pause', actor: 'sam' }, now);
      await store.rollouts.save({ ...claim!.record, nextDueAt: '2026-11-24T12:00:00.000Z' }, claim!.leaseToken, 1);
      await store.rollouts.release('ro-x', claim!.leaseToken);
      const [next] = await store.rollouts.claimDue('b', now, 30_000, 1);
      expect(next?.record.pendingCommands).toEqual([{ type: 'pause', actor: 'sam' }]);
    });
  });

  describe('conversation references, events, turns and bot state', () => {
    it('stores references and takes an event once', async () => {
      await store.saveConversationRef('teams', 'conv-1', { conversation: { id: 'conv-1' } });
      expect(await store.getConversationRef('teams', 'conv-1')).toEqual({ conversation: { id: 'conv-1' } });
      expect(await store.claimEvent('slack', 'T1:Ev1', 'replica-a', 30_000)).toBe('claimed');
      await store.finishEvent('slack', 'T1:Ev1', 'replica-a');
      expect(await store.claimEvent('slack', 'T1:Ev1', 'replica-b', 30_000)).toBe('done');
    });

    it('appends negotiation turns in order', async () => {
      const turn = {
        contractId: 'ctr-1',
        revision: 1,
        role: 'user' as const,
        actor: 'dev-1',
        text: 'start at 25%?',
        at: '2026-11-24T10:00:00Z',
      };
      await store.turnLog.append(turn);
      await store.turnLog.append({ ...turn, role: 'assistant', actor: 'chaos-negotiator', text: 'no' });
      expect((await store.turnLog.list('ctr-1')).map((t) => t.text)).toEqual(['start at 25%?', 'no']);
    });

    it('follows botbuilder eTag rules', async () => {
      await store.botStorage.write({ 'conv/state': { count: 1 } });
      const read = await store.botStorage.read(['conv/state', 'missing']);
      const item = read['conv/state'] as { count: number; eTag: string };
      expect(item.count).toBe(1);
      expect(read.missing).toBeUndefined();
      await store.botStorage.write({ 'conv/state': { ...item, count: 2 } });
      await expect(store.botStorage.write({ 'conv/state': { ...item, count: 3 } })).rejects.toThrow(/eTag conflict/);
      await store.botStorage.write({ 'conv/state': { count: 4, eTag: '*' } });
      expect(((await store.botStorage.read(['conv/state']))['conv/state'] as { count: number }).count).toBe(4);
      await store.botStorage.delete(['conv/state']);
      expect(await store.botStorage.read(['conv/state'])).toEqual({});
    });
  });
});
