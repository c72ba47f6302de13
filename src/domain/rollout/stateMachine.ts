/**
 * The rollout state machine: `step(state, event, terms, now)` returns the next state and the effects to perform.
 * Pure (time comes in as `now`), total (every event in every state has an answer; events that do not apply are
 * ignored with a reason instead of throwing, because chat clicks and timers can arrive late).
 *
 *   pending ──start──▶ progressing(0) ──step done──▶ progressing(i+1) … ──last step done──▶ baking ──bake done──▶ promoted
 *        │                  │  ▲                                                      │
 *        │               pause│  │resume                                                  │
 *        │                  ▼  │                                                      │
 *        │               paused ◀──── progress deadline (no PASS in time) ────────────┘
 *        │                  │
 *      abort        FAIL verdict / rollback_now / abort (from progressing, baking, paused)
 *        ▼                  ▼
 *     aborted          rolling_back ──rollback_finished──▶ rolled_back | aborted
 *                           └──────rollback_failed──────▶ failed
 *
 * A step is done when its minimum duration has elapsed AND the canary served its minimum requests AND the latest
 * verdict is PASS. A FAIL verdict rolls back from every analysing state, paused included (flagger#1801).
 *
 * A rollout that cannot conclude asks a person at the planned time: once the step has waited `progressDeadlineSeconds`
 * past its minimum duration and the whole rollout has run that long past its planned end (`terms.plannedSeconds`, the
 * plan the guardian computed in plan.ts; without it the sum of the minimum durations and the bake), it pauses with a `progress_deadline` alert that carries the numbers — time spent and
 * planned, the step's requests against its minimum, the judge's latest verdict and reasons — never holding silently.
 */
import type { RampStep } from '../model.js';
import {
  type ActiveState,
  type BakingState,
  type EvaluationAlert,
  type ProgressingState,
  type RolloutEffect,
  RolloutError,
  type RolloutEvent,
  type RolloutState,
  type RolloutTerms,
  type StepResult,
  TERMINAL_PHASES,
} from './types.js';

export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

export function initialRolloutState(): RolloutState {
  return { phase: 'pending' };
}

/** The canary steps of the ramp (below 100 %); the full rollout and bake follow them. */
export function canarySteps(terms: RolloutTerms): RampStep[] {
  return terms.ramp.steps.filter((s) => s.trafficPercent < 100);
}

export function step(state: RolloutState, event: RolloutEvent, terms: RolloutTerms, now: Date): StepResult {
  validateTerms(terms);
  const at = now.toISOString();
  if (Number.isNaN(now.getTime())) throw new RolloutError('rollout_invalid_event', '`now` is not a valid date');

  if (TERMINAL_PHASES.includes(state.phase)) {
    return ignore(state, `the rollout is already ${state.phase}`);
  }

  switch (event.type) {
    case 'start':
      if (state.phase !== 'pending') return ignore(state, `cannot start: the rollout is ${state.phase}`);
      return enterStep(0, terms, now, [], `started by ${event.actor ?? 'the guardian'}`, at);

    case 'evaluation':
      return onEvaluation(state, event, terms, now);

    case 'step_timer_elapsed':
      if (state.phase !== 'progressing' && state.phase !== 'baking') {
        return ignore(state, `no step timer runs while ${state.phase}`);
      }
      return advanceIfDone(state, terms, now, []);

    case 'pause': {
      if (state.phase !== 'progressing' && state.phase !== 'baking') {
        return ignore(state, `cannot pause: the rollout is ${state.phase}`);
      }
      const reason = event.reason ?? 'paused by a person';
      return {
        state: { phase: 'paused', pausedAt: at, by: event.actor, reason, resume: state },
        effects: [status('paused', state.trafficPercent, `paused by ${event.actor}: ${reason}`)],
      };
    }

    case 'resume': {
      if (state.phase !== 'paused') return ignore(state, `cannot resume: the rollout is ${state.phase}`);
      const pausedMs = now.getTime() - Date.parse(state.pausedAt);
      const shift = (iso: string) => new Date(Date.parse(iso) + Math.max(0, pausedMs)).toISOString();
      const resumed: ActiveState = {
        ...state.resume,
        stepStartedAt: shift(state.resume.stepStartedAt),
        deadlineFrom: at,
        ...(state.resume.rolloutStartedAt ? { rolloutStartedAt: shift(state.resume.rolloutStartedAt) } : {}),
      };
      const effects: RolloutEffect[] = [
        status(resumed.phase, resumed.trafficPercent, `resumed by ${event.actor}`),
        { type: 'schedule_check', at: stepDueAt(resumed, terms) },
      ];
      return advanceIfDone(resumed, terms, now, effects);
    }

    case 'promote': {
      const active = state.phase === 'paused' ? state.resume : state;
      if (active.phase !== 'progressing' && active.phase !== 'baking') {
        return ignore(state, `cannot promote: the rollout is ${state.phase}`);
      }
      const who = `promoted by ${event.actor}`;
      if (event.full || active.phase === 'baking') return promoted(active.trafficPercent, now, event.actor, who);
      return enterStep(active.stepIndex + 1, terms, now, [], who, active.rolloutStartedAt);
    }

    case 'rollback_now':
      if (state.phase === 'pending') return aborted(now, event.actor, event.reason ?? 'rolled back before it started');
      if (state.phase === 'rolling_back') return ignore(state, 'a rollback is already running');
      return rollingBack(now, event.reason ?? `rollback requested by ${event.actor}`, event.actor, 'rolled_back');

    case 'abort':
      if (state.phase === 'pending') return aborted(now, event.actor, event.reason ?? 'aborted before it started');
      if (state.phase === 'rolling_back') return ignore(state, 'a rollback is already running');
      return rollingBack(now, event.reason ?? `aborted by ${event.actor}`, event.actor, 'aborted');

    case 'rollback_finished':
      if (state.phase !== 'rolling_back') return ignore(state, `no rollback is running (${state.phase})`);
      return {
        state:
          state.endsAs === 'aborted'
            ? { phase: 'aborted', at, reason: state.reason, by: state.by }
            : { phase: 'rolled_back', at, reason: state.reason, by: state.by },
        effects: [status(state.endsAs, 0, `rollback finished: ${state.reason}`)],
      };

    case 'rollback_failed':
      if (state.phase !== 'rolling_back') return ignore(state, `no rollback is running (${state.phase})`);
      return {
        state: { phase: 'failed', at, reason: state.reason, error: event.error },
        effects: [
          {
            type: 'post_alert',
            severity: 'critical',
            kind: 'rollback_failed',
            message: `rollback failed: ${event.error}`,
          },
          status('failed', 0, `rollback failed, needs a person: ${event.error}`),
        ],
      };

    default:
      throw new RolloutError(
        'rollout_invalid_event',
        `unknown event ${JSON.stringify((event as { type?: unknown }).type)}`,
      );
  }
}

function onEvaluation(
  state: RolloutState,
  event: Extract<RolloutEvent, { type: 'evaluation' }>,
  terms: RolloutTerms,
  now: Date,
): StepResult {
  if (!Number.isFinite(event.canaryRequests) || event.canaryRequests < 0) {
    throw new RolloutError('rollout_invalid_event', 'evaluation.canaryRequests must be a non-negative number');
  }
  if (state.phase !== 'progressing' && state.phase !== 'baking' && state.phase !== 'paused') {
    return ignore(state, `evaluations are not used while ${state.phase}`);
  }
  const active = state.phase === 'paused' ? state.resume : state;
  if (event.verdict === 'FAIL') {
    const reason = event.reasons.join('; ') || 'the judge returned FAIL';
    const result = rollingBack(now, reason, 'guardian', 'rolled_back');
    result.effects.unshift({
      type: 'post_alert',
      severity: 'critical',
      kind: 'rollback',
      message: `rolling back at ${active.trafficPercent} %: ${reason}`,
    });
    return result;
  }
  const alerts = event.alerts ?? [];
  const fresh = alerts.filter((a) => !active.activeAlerts.includes(a.kind));
  const updated: ActiveState = {
    ...active,
    stepRequests: active.stepRequests + event.canaryRequests,
    evaluations: active.evaluations + 1,
    lastVerdict: event.verdict,
    activeAlerts: alerts.map((a) => a.kind),
    lastReasons: event.reasons.slice(0, 5),
  };
  const effects: RolloutEffect[] = fresh.map(alertEffect);
  if (state.phase === 'paused') return { state: { ...state, resume: updated }, effects };
  return advanceIfDone(updated, terms, now, effects);
}

function alertEffect(a: EvaluationAlert): RolloutEffect {
  return { type: 'post_alert', severity: a.severity, kind: a.kind, message: a.message };
}

/** Moves on when the step is done; pauses when the progress deadline passed without a PASS. */
function advanceIfDone(state: ActiveState, terms: RolloutTerms, now: Date, effects: RolloutEffect[]): StepResult {
  const minSeconds =
    state.phase === 'baking' ? terms.ramp.bakeTimeSeconds : stepAt(terms, state.stepIndex).minDurationSeconds;
  const minRequests = state.phase === 'baking' ? 0 : stepAt(terms, state.stepIndex).minRequests;
  const elapsed = (now.getTime() - Date.parse(state.stepStartedAt)) / 1000;
  const timeDone = elapsed >= minSeconds;
  const requestsDone = state.stepRequests >= minRequests;
  if (timeDone && requestsDone && state.lastVerdict === 'PASS') {
    if (state.phase === 'baking') {
      const r = promoted(100, now, 'guardian', `baked ${Math.round(elapsed)} s at 100 % with a passing verdict`);
      return { state: r.state, effects: [...effects, ...r.effects] };
    }
    const r = enterStep(state.stepIndex + 1, terms, now, [], 'step passed', state.rolloutStartedAt);
    return { state: r.state, effects: [...effects, ...r.effects] };
  }
  const deadline = terms.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  const waited = (now.getTime() - Math.max(Date.parse(state.deadlineFrom), Date.parse(state.stepStartedAt))) / 1000;
  const planned = plannedSeconds(terms);
  const sinceStart = state.rolloutStartedAt ? (now.getTime() - Date.parse(state.rolloutStartedAt)) / 1000 : null;
  const pastPlan = sinceStart === null || sinceStart >= planned + deadline;
  if (waited >= minSeconds + deadline && pastPlan) {
    const missing = [
      !requestsDone ? `${state.stepRequests}/${minRequests} canary requests` : null,
      state.lastVerdict !== 'PASS' ? `no passing verdict (latest ${state.lastVerdict ?? 'none'})` : null,
    ]
      .filter((x) => x !== null)
      .join(', ');
    const where =
      state.phase === 'baking'
        ? `the bake at 100 %`
        : `step ${state.stepIndex + 1}/${canarySteps(terms).length} at ${state.trafficPercent} %`;
    const time =
      sinceStart === null
        ? `${Math.round(waited)} s at ${state.trafficPercent} %`
        : `${Math.round(sinceStart)} s into a rollout planned for ${planned} s (+${deadline} s slack), ${Math.round(waited)} s in ${where}`;
    const judge =
      state.lastReasons && state.lastReasons.length > 0 ? `; the judge: ${state.lastReasons.join('; ')}` : '';
    const reason = `progress deadline: ${time}, without enough evidence to conclude (${missing})${judge}; a person must resume (keep gathering evidence), promote or roll back`;
    return {
      state: { phase: 'paused', pausedAt: now.toISOString(), by: 'guardian', reason, resume: state },
      effects: [
        ...effects,
        { type: 'post_alert', severity: 'warning', kind: 'progress_deadline', message: reason },
        status('paused', state.trafficPercent, reason),
      ],
    };
  }
  return { state, effects };
}

/**
 * The rollout's planned time: the one the guardian computed (plan.ts, from the judge configuration and the traffic),
 * else the canary steps' minimum durations and the bake.
 */
export function plannedSeconds(terms: RolloutTerms): number {
  if (terms.plannedSeconds !== undefined) return terms.plannedSeconds;
  return canarySteps(terms).reduce((a, s) => a + s.minDurationSeconds, 0) + terms.ramp.bakeTimeSeconds;
}

function enterStep(
  index: number,
  terms: RolloutTerms,
  now: Date,
  effects: RolloutEffect[],
  why: string,
  rolloutStartedAt: string | undefined,
): StepResult {
  const steps = canarySteps(terms);
  const at = now.toISOString();
  const base = {
    stepStartedAt: at,
    deadlineFrom: at,
    stepRequests: 0,
    evaluations: 0,
    lastVerdict: null,
    activeAlerts: [],
    ...(rolloutStartedAt ? { rolloutStartedAt } : {}),
  };
  let next: ProgressingState | BakingState;
  let message: string;
  if (index < steps.length) {
    const s = steps[index] as RampStep;
    next = { phase: 'progressing', stepIndex: index, trafficPercent: s.trafficPercent, ...base };
    message = `${why}: step ${index + 1}/${steps.length} at ${s.trafficPercent} % (at least ${s.minDurationSeconds} s and ${s.minRequests} canary requests)`;
  } else {
    next = { phase: 'baking', trafficPercent: 100, ...base };
    message = `${why}: 100 % of traffic, baking for ${terms.ramp.bakeTimeSeconds} s`;
  }
  return {
    state: next,
    effects: [
      ...effects,
      { type: 'set_traffic_weight', percent: next.trafficPercent },
      status(next.phase, next.trafficPercent, message),
      { type: 'schedule_check', at: stepDueAt(next, terms) },
    ],
  };
}

function stepDueAt(state: ActiveState, terms: RolloutTerms): string {
  const seconds =
    state.phase === 'baking' ? terms.ramp.bakeTimeSeconds : stepAt(terms, state.stepIndex).minDurationSeconds;
  return new Date(Date.parse(state.stepStartedAt) + seconds * 1000).toISOString();
}

function stepAt(terms: RolloutTerms, index: number): RampStep {
  const s = canarySteps(terms)[index];
  if (!s) throw new RolloutError('rollout_invalid_state', `step ${index} does not exist in the ramp`);
  return s;
}

function promoted(percent: number, now: Date, by: string, why: string): StepResult {
  const effects: RolloutEffect[] = [];
  if (percent !== 100) effects.push({ type: 'set_traffic_weight', percent: 100 });
  effects.push(status('promoted', 100, why));
  return { state: { phase: 'promoted', at: now.toISOString(), by }, effects };
}

function rollingBack(now: Date, reason: string, by: string, endsAs: 'rolled_back' | 'aborted'): StepResult {
  return {
    state: { phase: 'rolling_back', startedAt: now.toISOString(), reason, by, endsAs },
    effects: [
      { type: 'set_traffic_weight', percent: 0 },
      { type: 'run_rollback', reason },
      status('rolling_back', 0, `rolling back: ${reason}`),
    ],
  };
}

function aborted(now: Date, by: string, reason: string): StepResult {
  return {
    state: { phase: 'aborted', at: now.toISOString(), reason, by },
    effects: [status('aborted', 0, `${reason} (by ${by})`)],
  };
}

function status(phase: RolloutState['phase'], trafficPercent: number, message: string): RolloutEffect {
  return { type: 'post_status', phase, trafficPercent, message };
}

function ignore(state: RolloutState, why: string): StepResult {
  return { state, effects: [], ignored: why };
}

function validateTerms(terms: RolloutTerms): void {
  const r = terms.ramp;
  const bad = (why: string) => new RolloutError('rollout_invalid_terms', why);
  if (!Array.isArray(r.steps)) throw bad('ramp.steps must be an array');
  let previous = 0;
  r.steps.forEach((s, i) => {
    if (!(s.trafficPercent > 0 && s.trafficPercent <= 100))
      throw bad(`ramp.steps[${i}].trafficPercent must be in (0, 100]`);
    if (s.trafficPercent <= previous) throw bad(`ramp.steps[${i}].trafficPercent must be above the previous step`);
    if (!(s.minDurationSeconds >= 0) || !(s.minRequests >= 0)) {
      throw bad(`ramp.steps[${i}] needs non-negative minDurationSeconds and minRequests`);
    }
    previous = s.trafficPercent;
  });
  if (!(r.bakeTimeSeconds >= 0)) throw bad('ramp.bakeTimeSeconds must be ≥ 0');
  if (terms.progressDeadlineSeconds !== undefined && !(terms.progressDeadlineSeconds > 0)) {
    throw bad('progressDeadlineSeconds must be > 0');
  }
  if (terms.plannedSeconds !== undefined && !(terms.plannedSeconds >= 0)) throw bad('plannedSeconds must be ≥ 0');
}
