/**
 * Rollouts on SQL, following domain/rollout/ownership.ts. A partial unique index keeps one active rollout per
 * contract. Due rollouts are claimed with `FOR UPDATE SKIP LOCKED` under a lease token whose expiry is computed and
 * compared with the database's `now()`, so replicas' clocks never decide who owns a rollout; a save or an effect
 * with a lost lease is refused. Commands from chat queue in their own table, so they never race with a worker's
 * save. Rollback steps are recorded (started, done) in their own table, with the audit entry of each executed step.
 */
import { randomUUID } from 'node:crypto';
import type { RollbackStepReport } from '../actuators/ports.js';
import type { RollbackStepMark } from '../domain/rollout/ownership.js';
import type { RolloutEvent } from '../domain/rollout/types.js';
import { TERMINAL_PHASES } from '../domain/rollout/types.js';
import type {
  ClaimedRollout,
  EffectAudit,
  RollbackStepEntry,
  RolloutRecord,
  RolloutRepository,
} from '../guardian/repository.js';
import { appendAudit } from './auditLog.js';
import type { SqlDriver, SqlExecutor } from './driver.js';

const TERMINAL = [...TERMINAL_PHASES];
/** The lease predicate of ownership.ts `leaseHeld`, on the database's clock. */
const LEASE_HELD = 'lease_token = $2 and lease_expires_at > now()';

interface RolloutRow {
  id: string;
  record: RolloutRecord;
  lease_token: string;
}

export class SqlRolloutRepository implements RolloutRepository {
  constructor(
    private readonly db: SqlDriver,
    /** Called after an audit entry was staged, so the chainer seals it soon. */
    private readonly auditStaged: () => void = () => {},
  ) {}

  async create(record: RolloutRecord): Promise<void> {
    await this.db.transaction((tx) => this.insert(tx, record, false));
  }

  async createIfNoneActive(record: RolloutRecord): Promise<{ record: RolloutRecord; created: boolean }> {
    // A racing start waits on the index entry of the first one, then inserts nothing and reads the winner.
    const created = await this.db.transaction((tx) => this.insert(tx, record, true));
    if (created) return { record, created: true };
    const [row] = await this.db.query<{ record: RolloutRecord }>(
      'select record from rollouts where contract_id = $1 and phase <> all($2::text[])',
      [record.contractId, TERMINAL],
    );
    if (!row) throw new Error(`rollout ${record.id} could not be created and ${record.contractId} has no active one`);
    return { record: await this.withCommands(row.record), created: false };
  }

  private async insert(tx: SqlExecutor, record: RolloutRecord, unlessActive: boolean): Promise<boolean> {
    const { pendingCommands, ...rest } = record;
    const inserted = await tx.query(
      `insert into rollouts (id, contract_id, phase, record, next_due_at, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $6) ${unlessActive ? 'on conflict do nothing' : ''} returning id`,
      [
        record.id,
        record.contractId,
        record.state.phase,
        JSON.stringify({ ...rest, pendingCommands: [] }),
        record.nextDueAt,
        record.createdAt,
      ],
    );
    if (inserted.length === 0) return false;
    for (const command of pendingCommands) {
      await tx.query('insert into rollout_commands (rollout_id, command, created_at) values ($1, $2, $3)', [
        record.id,
        JSON.stringify(command),
        record.createdAt,
      ]);
    }
    return true;
  }

  private async withCommands(record: RolloutRecord): Promise<RolloutRecord> {
    const commands = await this.db.query<{ command: RolloutEvent }>(
      'select command from rollout_commands where rollout_id = $1 order by id',
      [record.id],
    );
    return { ...record, pendingCommands: commands.map((c) => c.command) };
  }

  async get(id: string): Promise<RolloutRecord | undefined> {
    const [row] = await this.db.query<{ record: RolloutRecord }>('select record from rollouts where id = $1', [id]);
    return row ? this.withCommands(row.record) : undefined;
  }

  async findByContract(contractId: string): Promise<RolloutRecord | undefined> {
    const [row] = await this.db.query<{ record: RolloutRecord }>(
      `select record from rollouts where contract_id = $1
       order by phase <> all($2::text[]) desc, created_at desc limit 1`,
      [contractId, TERMINAL],
    );
    return row ? this.withCommands(row.record) : undefined;
  }

  async claimDue(workerId: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedRollout[]> {
    const token = `${workerId}:${randomUUID()}`;
    const rows = await this.db.query<RolloutRow>(
      `with due as (
         select id from rollouts
         where next_due_at <= $1 and phase <> all($6::text[]) and (lease_expires_at is null or lease_expires_at <= now())
           and record ->> 'engine' is null
         order by next_due_at
         limit $2
         for update skip locked
       )
       update rollouts r
       set lease_owner = $3, lease_token = $4, lease_expires_at = now() + $5::integer * interval '1 millisecond'
       from due where r.id = due.id
       returning r.id, r.record, r.lease_token`,
      [now, limit, workerId, token, Math.round(leaseMs), TERMINAL],
    );
    if (rows.length === 0) return [];
    const commands = await this.db.query<{ rollout_id: string; command: RolloutEvent }>(
      'select rollout_id, command from rollout_commands where rollout_id = any($1::text[]) order by id',
      [rows.map((r) => r.id)],
    );
    const byRollout = new Map<string, RolloutEvent[]>();
    for (const c of commands) byRollout.set(c.rollout_id, [...(byRollout.get(c.rollout_id) ?? []), c.command]);
    return rows.map((row) => ({
      record: { ...row.record, pendingCommands: byRollout.get(row.id) ?? [] },
      leaseToken: row.lease_token,
    }));
  }

  async renewLease(id: string, leaseToken: string, leaseMs: number): Promise<boolean> {
    return (await this.renew(this.db, id, leaseToken, leaseMs)) > 0;
  }

  private renew(executor: SqlExecutor, id: string, leaseToken: string, leaseMs: number): Promise<number> {
    return executor.execute(
      `update rollouts set lease_expires_at = now() + $3::integer * interval '1 millisecond'
       where id = $1 and ${LEASE_HELD}`,
      [id, leaseToken, Math.round(leaseMs)],
    );
  }

  async save(record: RolloutRecord, leaseToken: string, consumedCommands: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { pendingCommands: _applied, ...rest } = record;
      const updated = await tx.execute(
        `update rollouts set record = $2, phase = $3, next_due_at = $4, updated_at = $5 where id = $1 and lease_token = $6`,
        [
          record.id,
          JSON.stringify({ ...rest, pendingCommands: [] }),
          record.state.phase,
          record.nextDueAt,
          record.updatedAt,
          leaseToken,
        ],
      );
      if (updated === 0) return false;
      if (consumedCommands > 0) {
        await tx.query(
          `delete from rollout_commands where id in (
             select id from rollout_commands where rollout_id = $1 order by id limit $2)`,
          [record.id, consumedCommands],
        );
      }
      // Commands that arrived while this worker held the lease make the rollout due again at once.
      await tx.query(
        `update rollouts set next_due_at = least(next_due_at, $2)
         where id = $1 and exists (select 1 from rollout_commands where rollout_id = $1)`,
        [record.id, new Date(0)],
      );
      const last = record.history.length - 1;
      const interval = record.history[last];
      if (interval) {
        await tx.query(
          `insert into rollout_evaluations (rollout_id, interval_index, interval_start, interval_end, verdict, metrics)
           values ($1, $2, $3, $4, $5, $6) on conflict (rollout_id, interval_index) do nothing`,
          [record.id, last, interval.start, interval.end, record.latestVerdict, JSON.stringify(interval)],
        );
      }
      return true;
    });
  }

  async claim(id: string, workerId: string, _now: Date, leaseMs: number): Promise<ClaimedRollout | undefined> {
    const token = `${workerId}:${randomUUID()}`;
    const [row] = await this.db.query<RolloutRow>(
      `update rollouts set lease_owner = $2, lease_token = $3,
         lease_expires_at = now() + $4::integer * interval '1 millisecond'
       where id = $1 and (lease_expires_at is null or lease_expires_at <= now())
       returning id, record, lease_token`,
      [id, workerId, token, Math.round(leaseMs)],
    );
    return row ? { record: await this.withCommands(row.record), leaseToken: row.lease_token } : undefined;
  }

  async release(id: string, leaseToken: string): Promise<void> {
    await this.db.query(
      'update rollouts set lease_owner = null, lease_token = null, lease_expires_at = null where id = $1 and lease_token = $2',
      [id, leaseToken],
    );
  }

  async enqueueCommand(id: string, command: RolloutEvent, now: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [row] = await tx.query('select 1 from rollouts where id = $1 for update', [id]);
      if (!row) throw new Error(`no rollout ${id}`);
      await tx.query('insert into rollout_commands (rollout_id, command, created_at) values ($1, $2, $3)', [
        id,
        JSON.stringify(command),
        now,
      ]);
      await tx.query('update rollouts set next_due_at = least(next_due_at, $2) where id = $1', [id, now]);
    });
  }

  async rollbackSteps(id: string): Promise<RollbackStepEntry[]> {
    const rows = await this.db.query<{
      step_order: number;
      mark: RollbackStepMark;
      owner: string;
      report: RollbackStepReport | null;
    }>('select step_order, mark, owner, report from rollout_rollback_steps where rollout_id = $1 order by step_order', [
      id,
    ]);
    return rows.map((r) => ({
      order: r.step_order,
      mark: r.mark,
      owner: r.owner,
      ...(r.report ? { report: r.report } : {}),
    }));
  }

  async markStepStarted(
    id: string,
    leaseToken: string,
    leaseMs: number,
    step: { order: number; description: string },
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if ((await this.renew(tx, id, leaseToken, leaseMs)) === 0) return false;
      await tx.query(
        `insert into rollout_rollback_steps (rollout_id, step_order, mark, owner, started_at)
         select $1, $2, 'started', lease_owner, now() from rollouts where id = $1
         on conflict (rollout_id, step_order) do nothing`,
        [id, step.order],
      );
      return true;
    });
  }

  async markStepDone(id: string, leaseToken: string, report: RollbackStepReport, audit: EffectAudit): Promise<boolean> {
    const held = await this.db.transaction(async (tx) => {
      await tx.query(
        `insert into rollout_rollback_steps (rollout_id, step_order, mark, owner, report, started_at, finished_at)
         values ($1, $2, 'done', $3, $4, now(), now())
         on conflict (rollout_id, step_order) do update set mark = 'done', report = $4, finished_at = now()`,
        [id, report.order, audit.workerId, JSON.stringify(report)],
      );
      await this.stageAudit(tx, id, audit);
      const rows = await tx.query(`select 1 from rollouts where id = $1 and ${LEASE_HELD}`, [id, leaseToken]);
      return rows.length > 0;
    });
    this.auditStaged();
    return held;
  }

  async auditEffect(audit: EffectAudit): Promise<void> {
    await this.stageAudit(this.db, undefined, audit);
    this.auditStaged();
  }

  private stageAudit(executor: SqlExecutor, rolloutId: string | undefined, audit: EffectAudit): Promise<void> {
    return appendAudit(executor, {
      at: audit.at,
      actor: `guardian:${audit.workerId}`,
      action: `rollout.${audit.kind}`,
      subject: audit.contractId,
      payload: { revision: audit.revision, data: { ...(rolloutId ? { rollout: rolloutId } : {}), ...audit.data } },
    });
  }

  /** Evaluations of a rollout, oldest first (the stored history, for audits and the status command). */
  async listEvaluations(
    id: string,
  ): Promise<{ intervalIndex: number; verdict: string | null; start: string; end: string }[]> {
    const rows = await this.db.query<{
      interval_index: number;
      verdict: string | null;
      interval_start: Date;
      interval_end: Date;
    }>(
      'select interval_index, verdict, interval_start, interval_end from rollout_evaluations where rollout_id = $1 order by interval_index',
      [id],
    );
    return rows.map((r) => ({
      intervalIndex: r.interval_index,
      verdict: r.verdict,
      start: new Date(r.interval_start).toISOString(),
      end: new Date(r.interval_end).toISOString(),
    }));
  }
}
