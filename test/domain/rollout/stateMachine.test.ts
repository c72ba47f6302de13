import { describe, expect, it } from 'vitest';
import { initialRolloutState, step } from '../../../src/domain/rollout/stateMachine.js';
import {
  type ProgressingState,
  RolloutError,
  type RolloutEvent,
  type RolloutState,
  type RolloutTerms,
} from '../../../src/domain/rollout/types.js';

const T0 = Date.parse('2026-04-01T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();

const terms: RolloutTerms = {
  ramp: {
    steps: [
      { trafficPercent: 10, minDurationSeconds: 300, minRequests: 1000 },
      { trafficPercent: 50, minDurationSeconds: 300, minRequests: 1000 },
    ],
    bakeTimeSeconds: 600,
    analysisIntervalSeconds: 60,
    consecutiveFailureLimit: 2,
    cumulativeFailureLimit: 4,
  },
  progressDeadlineSeconds: 600,
};

const evaluation = (
  verdict: 'PASS' | 'HOLD' | 'FAIL',
  canaryRequests = 300,
  alerts: { kind: string; severity: 'info' | 'warning' | 'critical'; message: string }[] = [],
): RolloutEvent => ({
  type: 'evaluation',
  verdict,
  canaryRequests,
  reasons: [`judge said ${verdict}`],
  alerts,
});

function progressing(overrides: Partial<ProgressingState> = {}): ProgressingState {
  return {
    phase: 'progressing',
    stepIndex: 0,
    trafficPercent: 10,
    stepStartedAt: iso(0),
    deadlineFrom: iso(0),
    stepRequests: 0,
    evaluations: 0,
    lastVerdict: null,
    activeAlerts: [],
    ...overrides,
  };
}

const types = (effects: { type: string }[]) => effects.map((e) => e.type);

describe('pending', () => {
  it('start enters the first step and sets its weight', () => {
    const r = step(initialRolloutState(), { type: 'start', actor: 'alice' }, terms, at(0));
    expect(r.state).toMatchObject({ phase: 'progressing', stepIndex: 0, trafficPercent: 10 });
    expect(r.effects[0]).toEqual({ type: 'set_traffic_weight', percent: 10 });
    expect(r.effects).toContainEqual({ type: 'schedule_check', at: iso(300) });
    expect(types(r.effects)).toContain('post_status');
  });

  it('a ramp without canary steps goes straight to 100 % and bakes', () => {
    const r = step({ phase: 'pending' }, { type: 'start' }, { ramp: { ...terms.ramp, steps: [] } }, at(0));
    expect(r.state).toMatchObject({ phase: 'baking', trafficPercent: 100 });
  });

  it('abort and rollback_now end it without touching traffic; evaluations are ignored', () => {
    expect(step({ phase: 'pending' }, { type: 'abort', actor: 'bob' }, terms, at(0)).state.phase).toBe('aborted');
    expect(step({ phase: 'pending' }, { type: 'rollback_now', actor: 'bob' }, terms, at(0)).state.phase).toBe(
      'aborted',
    );
    const r = step({ phase: 'pending' }, evaluation('FAIL'), terms, at(0));
    expect(r.ignored).toBeDefined();
    expect(r.effects).toEqual([]);
  });
});

describe('progressing', () => {
  const table: [string, RolloutState, RolloutEvent, number, string, string[]][] = [
    [
      'PASS before the minimum duration stays',
      progressing({ stepRequests: 5000 }),
      evaluation('PASS'),
      120,
      'progressing',
      [],
    ],
    [
      'PASS after the duration but below the minimum requests stays',
      progressing({ stepRequests: 100 }),
      evaluation('PASS'),
      300,
      'progressing',
      [],
    ],
    [
      'PASS after duration and requests advances',
      progressing({ stepRequests: 900 }),
      evaluation('PASS', 200),
      300,
      'progressing',
      ['set_traffic_weight', 'post_status', 'schedule_check'],
    ],
    [
      'HOLD after duration and requests waits',
      progressing({ stepRequests: 900 }),
      evaluation('HOLD', 200),
      300,
      'progressing',
      [],
    ],
    [
      'FAIL rolls back at once',
      progressing(),
      evaluation('FAIL'),
      60,
      'rolling_back',
      ['post_alert', 'set_traffic_weight', 'run_rollback', 'post_status'],
    ],
    [
      'timer with a passing step advances',
      progressing({ stepRequests: 2000, lastVerdict: 'PASS' }),
      { type: 'step_timer_elapsed' },
      300,
      'progressing',
      ['set_traffic_weight', 'post_status', 'schedule_check'],
    ],
    [
      'timer past the progress deadline without PASS pauses',
      progressing({ stepRequests: 0, lastVerdict: 'HOLD' }),
      { type: 'step_timer_elapsed' },
      900,
      'paused',
      ['post_alert', 'post_status'],
    ],
    ['pause', progressing(), { type: 'pause', actor: 'carol' }, 60, 'paused', ['post_status']],
    [
      'promote moves to the next step',
      progressing(),
      { type: 'promote', actor: 'carol' },
      60,
      'progressing',
      ['set_traffic_weight', 'post_status', 'schedule_check'],
    ],
    [
      'full promote ends promoted at 100 %',
      progressing(),
      { type: 'promote', actor: 'carol', full: true },
      60,
      'promoted',
      ['set_traffic_weight', 'post_status'],
    ],
    [
      'rollback_now',
      progressing(),
      { type: 'rollback_now', actor: 'dave' },
      60,
      'rolling_back',
      ['set_traffic_weight', 'run_rollback', 'post_status'],
    ],
    [
      'abort rolls back, ending aborted',
      progressing(),
      { type: 'abort', actor: 'dave' },
      60,
      'rolling_back',
      ['set_traffic_weight', 'run_rollback', 'post_status'],
    ],
  ];
  for (const [name, state, event, seconds, phase, effects] of table) {
    it(name, () => {
      const r = step(state, event, terms, at(seconds));
      expect(r.state.phase).toBe(phase);
      expect(types(r.effects)).toEqual(effects);
    });
  }

  it('counts canary requests and advances to the second step with its weight', () => {
    const r = step(progressing({ stepRequests: 900 }), evaluation('PASS', 200), terms, at(300));
    expect(r.state).toMatchObject({ phase: 'progressing', stepIndex: 1, trafficPercent: 50, stepRequests: 0 });
    expect(r.effects[0]).toEqual({ type: 'set_traffic_weight', percent: 50 });
  });

  it('the last step hands over to baking at 100 %', () => {
    const last = progressing({ stepIndex: 1, trafficPercent: 50, stepRequests: 5000 });
    const r = step(last, evaluation('PASS'), terms, at(300));
    expect(r.state).toMatchObject({ phase: 'baking', trafficPercent: 100 });
  });

  it('posts each judge alert once while it stays active', () => {
    const alert = { kind: 'no_canary_data', severity: 'warning' as const, message: 'no data' };
    const first = step(progressing(), evaluation('HOLD', 0, [alert]), terms, at(60));
    expect(first.effects).toContainEqual({
      type: 'post_alert',
      severity: 'warning',
      kind: 'no_canary_data',
      message: 'no data',
    });
    const second = step(first.state, evaluation('HOLD', 0, [alert]), terms, at(120));
    expect(second.effects).toEqual([]);
  });

  it('records the rollback reason from the judge', () => {
    const r = step(progressing(), evaluation('FAIL'), terms, at(60));
    expect(r.state).toMatchObject({
      phase: 'rolling_back',
      by: 'guardian',
      endsAs: 'rolled_back',
      reason: 'judge said FAIL',
    });
  });
});

describe('paused', () => {
  const paused: RolloutState = {
    phase: 'paused',
    pausedAt: iso(120),
    by: 'carol',
    reason: 'looking',
    resume: progressing({ stepRequests: 2000, lastVerdict: 'PASS' }),
  };

  it('resume returns to the step, not counting the paused time', () => {
    const r = step(paused, { type: 'resume', actor: 'carol' }, terms, at(420));
    expect(r.state).toMatchObject({
      phase: 'progressing',
      stepIndex: 0,
      stepStartedAt: iso(300),
      deadlineFrom: iso(420),
    });
    expect(r.effects).toContainEqual({ type: 'schedule_check', at: iso(600) });
  });

  it('a FAIL still rolls back while paused (flagger#1801)', () => {
    expect(step(paused, evaluation('FAIL'), terms, at(180)).state.phase).toBe('rolling_back');
  });

  it('other verdicts are recorded without moving on', () => {
    const r = step(paused, evaluation('PASS', 100), terms, at(900));
    expect(r.state.phase).toBe('paused');
    expect(r.state.phase === 'paused' && r.state.resume.stepRequests).toBe(2100);
  });

  it('promote and rollback_now work from the pause; timers and a second pause are ignored', () => {
    expect(step(paused, { type: 'promote', actor: 'c' }, terms, at(200)).state).toMatchObject({
      phase: 'progressing',
      stepIndex: 1,
    });
    expect(step(paused, { type: 'rollback_now', actor: 'c' }, terms, at(200)).state.phase).toBe('rolling_back');
    expect(step(paused, { type: 'step_timer_elapsed' }, terms, at(200)).ignored).toBeDefined();
    expect(step(paused, { type: 'pause', actor: 'c' }, terms, at(200)).ignored).toBeDefined();
  });
});

describe('baking', () => {
  const baking: RolloutState = { ...progressing({ trafficPercent: 100 }), phase: 'baking' } as RolloutState;
  it('promotes after the bake time with a passing verdict', () => {
    const r = step(baking, evaluation('PASS'), terms, at(600));
    expect(r.state.phase).toBe('promoted');
    expect(types(r.effects)).toEqual(['post_status']);
  });
  it('keeps baking before the bake time and rolls back on FAIL', () => {
    expect(step(baking, evaluation('PASS'), terms, at(300)).state.phase).toBe('baking');
    expect(step(baking, evaluation('FAIL'), terms, at(300)).state.phase).toBe('rolling_back');
  });
  it('pauses at the progress deadline without a PASS', () => {
    expect(step(baking, evaluation('HOLD'), terms, at(1200)).state.phase).toBe('paused');
  });
});

describe('rolling_back and terminal states', () => {
  const rolling: RolloutState = {
    phase: 'rolling_back',
    startedAt: iso(0),
    reason: 'bad',
    by: 'guardian',
    endsAs: 'rolled_back',
  };
  it('rollback_finished ends rolled_back (or aborted when it was an abort)', () => {
    expect(step(rolling, { type: 'rollback_finished' }, terms, at(30)).state).toMatchObject({
      phase: 'rolled_back',
      reason: 'bad',
    });
    expect(step({ ...rolling, endsAs: 'aborted' }, { type: 'rollback_finished' }, terms, at(30)).state.phase).toBe(
      'aborted',
    );
  });
  it('rollback_failed ends failed with a critical alert', () => {
    const r = step(rolling, { type: 'rollback_failed', error: 'kubectl timed out' }, terms, at(30));
    expect(r.state).toMatchObject({ phase: 'failed', error: 'kubectl timed out' });
    expect(r.effects[0]).toMatchObject({ type: 'post_alert', severity: 'critical' });
  });
  it('ignores evaluations and a second rollback while rolling back', () => {
    expect(step(rolling, evaluation('FAIL'), terms, at(30)).ignored).toBeDefined();
    expect(step(rolling, { type: 'rollback_now', actor: 'x' }, terms, at(30)).ignored).toBeDefined();
  });
  for (const terminal of [
    { phase: 'promoted', at: iso(0), by: 'g' },
    { phase: 'rolled_back', at: iso(0), reason: 'r', by: 'g' },
    { phase: 'aborted', at: iso(0), reason: 'r', by: 'g' },
    { phase: 'failed', at: iso(0), reason: 'r', error: 'e' },
  ] as RolloutState[]) {
    it(`${terminal.phase} ignores every event`, () => {
      for (const e of [
        evaluation('FAIL'),
        { type: 'resume', actor: 'x' },
        { type: 'start' },
        { type: 'rollback_finished' },
      ] as RolloutEvent[]) {
        const r = step(terminal, e, terms, at(10));
        expect(r.state).toBe(terminal);
        expect(r.effects).toEqual([]);
        expect(r.ignored).toContain(terminal.phase);
      }
    });
  }
});

describe('validation', () => {
  it('rejects ramps that do not increase and unknown events', () => {
    const bad: RolloutTerms = {
      ramp: {
        ...terms.ramp,
        steps: [
          { trafficPercent: 50, minDurationSeconds: 1, minRequests: 0 },
          { trafficPercent: 10, minDurationSeconds: 1, minRequests: 0 },
        ],
      },
    };
    expect(() => step({ phase: 'pending' }, { type: 'start' }, bad, at(0))).toThrowError(
      expect.objectContaining({ code: 'rollout_invalid_terms' }),
    );
    expect(() => step(progressing(), { type: 'nope' } as unknown as RolloutEvent, terms, at(0))).toThrow(RolloutError);
    expect(() => step(progressing(), evaluation('PASS', -1), terms, at(0))).toThrowError(
      expect.objectContaining({ code: 'rollout_invalid_event' }),
    );
  });
});

describe('a whole rollout', () => {
  it('walks pending → 10 % → 50 % → bake → promoted with PASS verdicts every minute', () => {
    let state: RolloutState = initialRolloutState();
    const weights: number[] = [];
    let r = step(state, { type: 'start' }, terms, at(0));
    state = r.state;
    for (let minute = 1; minute <= 30 && state.phase !== 'promoted'; minute++) {
      r = step(state, evaluation('PASS', 250), terms, at(minute * 60));
      state = r.state;
      for (const e of r.effects) if (e.type === 'set_traffic_weight') weights.push(e.percent);
    }
    expect(state.phase).toBe('promoted');
    expect(weights).toEqual([50, 100]);
    expect(state.phase === 'promoted' && state.at).toBe(iso(1200)); // 5 + 5 + 10 minutes
  });
});

describe('asking a person at the planned time (a rollout that cannot conclude)', () => {
  // Planned time: 300 + 300 s of steps and a 600 s bake = 1200 s; slack (progress deadline) 600 s.
  const started = () => step(initialRolloutState(), { type: 'start', actor: 'alice' }, terms, at(0)).state;
  const hold = (reasons: string[]): RolloutEvent => ({
    type: 'evaluation',
    verdict: 'HOLD',
    canaryRequests: 100,
    reasons,
  });

  it('a first step that holds keeps gathering evidence past its own deadline while the plan has time left', () => {
    let state = started();
    for (let s = 60; s <= 1740; s += 60) {
      state = step(state, hold(['p99 latency: gathering evidence, 400/1000 canary requests']), terms, at(s)).state;
    }
    expect(state.phase).toBe('progressing');
  });

  it('asks at the planned end plus the slack, with the numbers and the judge’s reasons', () => {
    let state = started();
    let asked: { type: string; kind?: string; message?: string } | undefined;
    for (let s = 60; s <= 1800 && state.phase !== 'paused'; s += 60) {
      const r = step(state, hold(['p99 latency: gathering evidence, 400/1000 canary requests']), terms, at(s));
      state = r.state;
      asked = r.effects.find((e) => e.type === 'post_alert');
    }
    expect(state.phase).toBe('paused');
    expect(state.phase === 'paused' && state.pausedAt).toBe(iso(1800));
    expect(asked?.kind).toBe('progress_deadline');
    expect(asked?.message).toContain('1800 s into a rollout planned for 1200 s (+600 s slack)');
    expect(asked?.message).toContain('step 1/2 at 10 %');
    expect(asked?.message).toContain('no passing verdict (latest HOLD)');
    expect(asked?.message).toContain('the judge: p99 latency: gathering evidence, 400/1000 canary requests');
    expect(asked?.message).toContain('a person must resume');
  });

  it('counts against the planned time the guardian computed when the terms carry one', () => {
    // A plan of 2400 s (e.g. whole intervals, warm-up and evidence windows): no question at 1800 s, one at 3000 s.
    const planned: RolloutTerms = { ...terms, plannedSeconds: 2400 };
    let state = step(initialRolloutState(), { type: 'start', actor: 'alice' }, planned, at(0)).state;
    let pausedAt: number | null = null;
    for (let s = 60; s <= 3600 && state.phase !== 'paused'; s += 60) {
      const r = step(state, hold(['undecided']), planned, at(s));
      state = r.state;
      if (state.phase === 'paused') {
        pausedAt = s;
        expect(r.effects.find((e) => e.type === 'post_alert' && e.kind === 'progress_deadline')).toBeDefined();
      }
    }
    expect(pausedAt).toBe(3000);
    expect(() => step(state, hold([]), { ...terms, plannedSeconds: -1 }, at(3060))).toThrow(RolloutError);
  });

  it('after a resume the step gets a fresh deadline of its own, and time paused does not count against the plan', () => {
    let state = started();
    for (let s = 60; s <= 1800 && state.phase !== 'paused'; s += 60)
      state = step(state, hold(['undecided']), terms, at(s)).state;
    expect(state.phase).toBe('paused');
    state = step(state, { type: 'resume', actor: 'bob' }, terms, at(3600)).state;
    expect(state.phase).toBe('progressing');
    expect(state.phase === 'progressing' && state.rolloutStartedAt).toBe(iso(1800));
    // The step's own deadline counts from the resume: 300 s minimum + 600 s slack.
    state = step(state, hold(['undecided']), terms, at(4440)).state;
    expect(state.phase).toBe('progressing');
    state = step(state, hold(['undecided']), terms, at(4500)).state;
    expect(state.phase).toBe('paused');
  });

  it('a state saved before the planned time existed keeps the step deadline', () => {
    const old = progressing({ stepRequests: 0, lastVerdict: 'HOLD' });
    expect(step(old, { type: 'step_timer_elapsed' }, terms, at(900)).state.phase).toBe('paused');
  });
});
