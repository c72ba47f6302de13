/**
 * The guardian's front door: starts a rollout from an approved contract and turns chat or engine commands
 * (roll back now, pause, resume, promote) into queued rollout events that the worker holding the lease applies.
 */

import type { ChatActor, ChatMessage, ThreadRef } from '../chat/port.js';
import type { RolloutControl } from '../chat/service.js';
import type { Contract } from '../domain/model.js';
import { isActiveRollout } from '../domain/rollout/ownership.js';
import { initialRolloutState } from '../domain/rollout/stateMachine.js';
import type { RolloutEvent } from '../domain/rollout/types.js';
import type { AreaCode, CodedError } from '../errors.js';
import type { EngineRolloutView } from '../webhooks/enginePort.js';
import type { RolloutRecord, RolloutRepository } from './repository.js';

export interface GuardianServiceOptions {
  repository: RolloutRepository;
  clock?: () => Date;
  /** Called when a rollout starts, so the contract can move to rolling_out. */
  onStarted?: (contract: Contract, record: RolloutRecord, actor: ChatActor) => Promise<void>;
}

export class RolloutCommandError extends Error implements CodedError {
  constructor(
    readonly code: Exclude<AreaCode<'guardian'>, 'guardian_lease_lost'>,
    message: string,
  ) {
    super(message);
    this.name = 'RolloutCommandError';
  }
}

export class GuardianService implements RolloutControl {
  private readonly clock: () => Date;

  constructor(private readonly options: GuardianServiceOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Starts the contract's rollout; answers the running one when it has started already (see `start`). */
  async startRollout(contract: Contract, actor: ChatActor, thread?: ThreadRef): Promise<RolloutRecord> {
    return (await this.start(contract, actor, thread)).record;
  }

  /**
   * Idempotent on every replica: when the contract already has an active rollout (a second click, a retried
   * pipeline, a start racing on another replica), that rollout is answered with `created: false` and nothing else
   * happens. The store enforces it, so two concurrent starts create one rollout.
   */
  async start(
    contract: Contract,
    actor: ChatActor,
    thread?: ThreadRef,
  ): Promise<{ record: RolloutRecord; created: boolean }> {
    if (contract.state !== 'approved') {
      // The first start moves the contract on to rolling_out; a start that read it after that still gets the rollout.
      const running = await this.options.repository.findByContract(contract.id);
      if (running && isActiveRollout(running.state.phase)) return { record: running, created: false };
      throw new RolloutCommandError(
        'guardian_not_approved',
        `contract ${contract.id} r${contract.revision} is ${contract.state}, not approved`,
      );
    }
    const now = this.clock().toISOString();
    const { deployment, terms } = contract;
    const candidate: RolloutRecord = {
      id: `ro-${contract.id}-r${contract.revision}-${Date.parse(now).toString(36)}`,
      contractId: contract.id,
      revision: contract.revision,
      target: {
        serviceName: deployment.serviceName,
        namespace: deployment.target.namespace,
        resourceName: deployment.target.resourceName,
        canaryVersion: deployment.version,
        ...(deployment.previousVersion ? { baselineVersion: deployment.previousVersion } : {}),
      },
      terms: {
        guardrails: terms.guardrails,
        ramp: terms.ramp,
        targetErrorRatePercent: deployment.slo.targetErrorRatePercent,
        rollbackPlan: contract.rollbackPlan,
        serviceQps: deployment.slo.currentQps,
        today: {
          currentErrorRatePercent: deployment.slo.currentErrorRatePercent,
          currentP95LatencyMs: deployment.slo.currentP95LatencyMs,
          currentP99LatencyMs: deployment.slo.currentP99LatencyMs,
        },
      },
      state: initialRolloutState(),
      history: [],
      lastIntervalEnd: now,
      stepStartIndex: 0,
      nextDueAt: now,
      pendingCommands: [{ type: 'start', actor: actor.displayName ?? actor.id }],
      ...(thread ? { report: { thread } } : {}),
      latestVerdict: null,
      latestReasons: [],
      latestChecks: [],
      log: [],
      createdAt: now,
      updatedAt: now,
    };
    const result = await this.options.repository.createIfNoneActive(candidate);
    if (result.created) await this.options.onStarted?.(contract, result.record, actor);
    return result;
  }

  async send(contractId: string, event: RolloutEvent): Promise<RolloutRecord> {
    const record = await this.options.repository.findByContract(contractId);
    if (!record) throw new RolloutCommandError('guardian_no_rollout', `no rollout of ${contractId} has started`);
    if (!isActiveRollout(record.state.phase)) {
      throw new RolloutCommandError(
        'guardian_finished',
        `the rollout of ${contractId} is already ${record.state.phase}`,
      );
    }
    await this.options.repository.enqueueCommand(record.id, event, this.clock());
    return record;
  }

  /** RolloutControl: what chat buttons and commands call. Answers at once; the worker does the work. */
  async command(input: {
    kind: 'start' | 'rollback' | 'pause' | 'promote';
    contract: Contract;
    actor: ChatActor;
    thread: ThreadRef;
  }): Promise<ChatMessage> {
    const who = input.actor.displayName ?? input.actor.id;
    try {
      switch (input.kind) {
        case 'start': {
          const { record, created } = await this.start(input.contract, input.actor, input.thread);
          if (!created) {
            return {
              text: `A rollout of ${record.target.serviceName} ${record.target.canaryVersion} is already ${record.state.phase} (${record.id}); ${who}'s start joins it.`,
            };
          }
          const steps = record.terms.ramp.steps.map((s) => `${s.trafficPercent} %`).join(' → ');
          return {
            text: `Rollout of ${record.target.serviceName} ${record.target.canaryVersion} started by ${who}: ${steps || 'no canary'} → 100 %, judged every ${record.terms.ramp.analysisIntervalSeconds} s.`,
          };
        }
        case 'rollback':
          await this.send(input.contract.id, {
            type: 'rollback_now',
            actor: who,
            reason: `rollback requested by ${who}`,
          });
          return {
            text: `Rollback requested by ${who}; traffic goes back to the baseline and the plan's steps follow.`,
          };
        case 'pause': {
          const current = await this.options.repository.findByContract(input.contract.id);
          if (current?.state.phase === 'paused') {
            await this.send(input.contract.id, { type: 'resume', actor: who });
            return { text: `Rollout resumed by ${who}.` };
          }
          await this.send(input.contract.id, { type: 'pause', actor: who });
          return { text: `Rollout paused by ${who}; press Pause again to resume.` };
        }
        case 'promote':
          await this.send(input.contract.id, { type: 'promote', actor: who });
          return { text: `Promotion to the next stage requested by ${who}.` };
      }
    } catch (error) {
      if (error instanceof RolloutCommandError) return { text: error.message };
      throw error;
    }
  }

  /** What the Flagger / Argo endpoints need to know about a contract's rollout. */
  async engineView(contract: Contract): Promise<EngineRolloutView> {
    const record = await this.options.repository.findByContract(contract.id);
    const phase = record?.state.phase;
    const rollbackRequested =
      phase === 'rolling_back' ||
      phase === 'rolled_back' ||
      Boolean(record?.pendingCommands.some((c) => c.type === 'rollback_now' || c.type === 'abort'));
    return {
      contractId: contract.id,
      revision: contract.revision,
      contractState: contract.state,
      latestVerdict: record?.latestVerdict ?? null,
      verdictEvidence: record?.latestReasons ?? [],
      rollbackRequested,
    };
  }
}
