/**
 * Reports a rollout in its chat thread: one status card edited in place (stage, traffic, verdict, checks with
 * numbers) and alert lines for what needs a human's eyes. A healthy rollout posts one new message (the status
 * card) and edits it from then on.
 */

import type { ChatSurface, MessageRef, SurfaceName, ThreadRef } from '../chat/port.js';
import type { RolloutStatusInput } from '../views/cardViews.js';
import type { RolloutRecord } from './repository.js';
import type { RolloutNotifier } from './worker.js';

const PHASE: Record<RolloutRecord['state']['phase'], RolloutStatusInput['phase']> = {
  pending: 'pending',
  progressing: 'running',
  baking: 'running',
  paused: 'paused',
  promoted: 'promoted',
  rolling_back: 'rolling_back',
  rolled_back: 'rolled_back',
  aborted: 'aborted',
  failed: 'aborted',
};

const ICON = { info: 'ℹ️', warning: '⚠️', critical: '🛑' } as const;

export function rolloutStatusInput(record: RolloutRecord, now: Date): RolloutStatusInput {
  const state = record.state;
  const active = state.phase === 'paused' ? state.resume : state;
  const steps = record.terms.ramp.steps;
  const stepIndex =
    active.phase === 'progressing'
      ? active.stepIndex
      : active.phase === 'baking' || state.phase === 'promoted'
        ? steps.length
        : 0;
  const traffic =
    active.phase === 'progressing' || active.phase === 'baking'
      ? active.trafficPercent
      : state.phase === 'promoted'
        ? 100
        : 0;
  return {
    contractId: record.contractId,
    revision: record.revision,
    service: record.target.serviceName,
    version: record.target.canaryVersion,
    phase: PHASE[state.phase],
    trafficPercent: traffic,
    stepIndex,
    stepCount: steps.length + 1,
    ...(record.latestVerdict ? { verdict: record.latestVerdict } : {}),
    ...(record.latestReasons[0] ? { verdictReason: record.latestReasons[0] } : {}),
    checks: record.latestChecks,
    steps: record.log,
    updatedAt: now.toISOString(),
  };
}

export class ChatRolloutNotifier implements RolloutNotifier {
  constructor(
    private readonly surfaces: Partial<Record<SurfaceName, ChatSurface>>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private target(record: RolloutRecord): { thread: ThreadRef; surface: ChatSurface } | undefined {
    const thread = record.report?.thread as ThreadRef | undefined;
    const surface = thread ? this.surfaces[thread.surface] : undefined;
    return thread && surface ? { thread, surface } : undefined;
  }

  async status(record: RolloutRecord, note: string): Promise<RolloutRecord['report']> {
    const target = this.target(record);
    if (!target) return record.report;
    const card = { kind: 'rollout-status' as const, input: rolloutStatusInput(record, this.clock()) };
    const existing = record.report?.statusMessage as MessageRef | undefined;
    if (existing) {
      await target.surface.updateCard(existing, card);
      return record.report;
    }
    const statusMessage = await target.surface.postCard(target.thread, card, note);
    return { thread: target.thread, statusMessage };
  }

  async alert(
    record: RolloutRecord,
    alert: { severity: 'info' | 'warning' | 'critical'; kind: string; message: string },
  ): Promise<void> {
    const target = this.target(record);
    if (!target) return;
    await target.surface.postInThread(target.thread, {
      text: `${ICON[alert.severity]} ${record.target.serviceName} ${record.target.canaryVersion}: ${alert.message}`,
    });
  }
}
