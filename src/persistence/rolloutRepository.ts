/**
 * Rollouts on SQL. Due rollouts are claimed with `FOR UPDATE SKIP LOCKED` under a lease token, so two workers never
 * hold the same rollout and a crashed worker's rollout is taken over once its lease expires; a save with a lost
 * lease is refused. Commands from chat queue in their own table, so they never race with a worker's save.
 */
import { randomUUID } from 'node:crypto';
import type { RolloutEvent } from '../domain/rollout/types.js';
import type { ClaimedRollout, RolloutRecord, RolloutRepository } from '../guardian/repository.js';
import type { SqlDriver } from './driver.js';

const TERMINAL = ['promoted', 'rolled_back', 'aborted', 'failed'];

interface RolloutRow {
  id: string;
  record: RolloutRecord;
  lease_token: string;
}

export class SqlRolloutRepository implements RolloutRepository {
  constructor(private readonly db: SqlDriver) {}

  async create(record: RolloutRecord): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { pendingCommands, ...rest } = record;
      await tx.query(
        `insert into rollouts (id, contract_id, phase, record, next_due_at, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $6)`,
        [
          record.id,
          record.contractId,
          record.state.phase,
          JSON.stringify({ ...rest, pendingCommands: [] }),
          record.nextDueAt,
          record.createdAt,
        ],
      );
      for (const command of pendingCommands) {
        await tx.query('insert into rollout_commands (rollout_id, command, created_at) values ($1, $2, $3)', [
          record.id,
          JSON.stringify(command),
          record.createdAt,
        ]);
      }
    });
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
      'select record from rollouts where contract_id = $1 order by created_at desc limit 1',
      [contractId],
    );
    return row ? this.withCommands(row.record) : undefined;
  }

  async claimDue(workerId: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedRollout[]> {
    const token = `${workerId}:${randomUUID()}`;
    const rows = await this.db.query<RolloutRow>(
      `with due as (
         select id from rollouts
         where next_due_at <= $1 and phase <> all($6::text[]) and (lease_expires_at is null or lease_expires_at <= $1)
           and record ->> 'engine' is null
         order by next_due_at
         limit $2
         for update skip locked
       )
       update rollouts r set lease_owner = $3, lease_token = $4, lease_expires_at = $5
       from due where r.id = due.id
       returning r.id, r.record, r.lease_token`,
      [now, limit, workerId, token, new Date(now.getTime() + leaseMs), TERMINAL],
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

  async claim(id: string, workerId: string, now: Date, leaseMs: number): Promise<ClaimedRollout | undefined> {
    const token = `${workerId}:${randomUUID()}`;
    const [row] = await this.db.query<RolloutRow>(
      `update rollouts set lease_owner = $2, lease_token = $3, lease_expires_at = $4
       where id = $1 and (lease_expires_at is null or lease_expires_at <= $5)
       returning id, record, lease_token`,
      [id, workerId, token, new Date(now.getTime() + leaseMs), now],
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
