/**
 * The durable store: PGlite under a data directory by default, PostgreSQL when DATABASE_URL is set — the same
 * schema and SQL. Migrations run when it opens.
 */
import type { Storage } from 'botbuilder';
import { SqlAnnouncementLedger, SqlProtectionCallbackStore } from './announcements.js';
import { type AuditAnchor, AuditChainer, type AuditVerification, verifyAuditChain } from './auditLog.js';
import { SqlBotStorage } from './botStorage.js';
import { SqlContractStore } from './contractStore.js';
import { type DriverOptions, openDriver, type SqlDriver } from './driver.js';
import { migrate } from './migrations.js';
import { PgliteVacuum } from './pgliteVacuum.js';
import { DedupPruner, type PruneResult } from './pruning.js';
import { SqlRolloutRepository } from './rolloutRepository.js';
import { SqlTurnLog } from './turnLog.js';

export type { AuditAnchor, AuditVerification } from './auditLog.js';
export { parseAuditAnchor } from './auditLog.js';
export { StoreError } from './driver.js';

export class PersistentStore extends SqlContractStore {
  readonly botStorage: Storage;
  readonly turnLog: SqlTurnLog;
  readonly rollouts: SqlRolloutRepository;
  readonly announcements: SqlAnnouncementLedger;
  readonly protectionCallbacks: SqlProtectionCallbackStore;
  private readonly auditChainer: AuditChainer;

  private readonly pruner: DedupPruner;

  constructor(
    readonly driver: SqlDriver,
    auditChainer = new AuditChainer(driver),
    private readonly vacuum?: PgliteVacuum,
    pruner = new DedupPruner(driver),
  ) {
    super(driver, () => auditChainer.kick(), pruner.eventTtlMs);
    this.pruner = pruner;
    this.auditChainer = auditChainer;
    this.botStorage = new SqlBotStorage(driver);
    this.turnLog = new SqlTurnLog(driver);
    this.rollouts = new SqlRolloutRepository(driver, () => auditChainer.kick());
    this.announcements = new SqlAnnouncementLedger(driver);
    this.protectionCallbacks = new SqlProtectionCallbackStore(driver);
  }

  get kind(): SqlDriver['kind'] {
    return this.driver.kind;
  }

  /** The CHAOS_AUDIT_KEY the chain is sealed and checked with, when one is configured. */
  auditKey: Buffer | undefined;

  /** Seals what this process has pending, then walks the chain (against `anchor`, a head kept outside the database). */
  async verifyAudit(options: { anchor?: AuditAnchor } = {}): Promise<AuditVerification> {
    await this.auditChainer.flush();
    return verifyAuditChain(this.driver, {
      ...(this.auditKey ? { key: this.auditKey } : {}),
      ...(options.anchor ? { anchor: options.anchor } : {}),
    });
  }

  /** Seals every pending audit entry now (they are otherwise sealed within a few tens of milliseconds). */
  sealAudit(): Promise<void> {
    return this.auditChainer.flush();
  }

  /** Deletes de-duplication rows past their TTL now (a timer does it every few minutes). */
  pruneDedup(): Promise<PruneResult> {
    return this.pruner.pruneNow();
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    try {
      await this.driver.query('select 1');
      return { ok: true, detail: this.driver.kind };
    } catch (error) {
      return { ok: false, detail: `${this.driver.kind}: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    try {
      await this.vacuum?.stop();
      await this.pruner.stop();
      await this.auditChainer.stop();
    } finally {
      await this.driver.close();
    }
  }
}

export interface PersistentStoreOptions extends DriverOptions {
  /** Told when sealing the audit chain fails (it is retried on the next write and sweep). */
  onAuditError?: (error: unknown) => void;
  /** CHAOS_AUDIT_KEY: entries are sealed with an HMAC-SHA256 under it. */
  auditKey?: string;
  /** Told the new audit head after every seal, to keep it outside the database (the log, exported events). */
  onAuditSealed?: (head: AuditAnchor) => void;
  /** How long an inbound event id is remembered for de-duplication (default 1 hour, as the in-memory twin). */
  eventTtlMs?: number;
  /** How long the announcement ledger keeps a delivery → contract entry (default 30 days). */
  announcementRetentionMs?: number;
  /** How often expired de-duplication rows are deleted (default: the event TTL, at most 10 minutes). */
  pruneEveryMs?: number;
  /** PGlite only: how often the rewritten tables are vacuumed (default 10 minutes). */
  vacuumEveryMs?: number;
  onMaintenanceError?: (error: unknown) => void;
}

export async function openPersistentStore(options: PersistentStoreOptions): Promise<PersistentStore> {
  const driver = await openDriver(options);
  const auditKey = options.auditKey ? Buffer.from(options.auditKey, 'utf8') : undefined;
  const chainer = new AuditChainer(driver, {
    ...(options.onAuditError ? { onError: options.onAuditError } : {}),
    ...(auditKey ? { key: auditKey } : {}),
    ...(options.onAuditSealed ? { onSealed: options.onAuditSealed } : {}),
  });
  const vacuum =
    driver.kind === 'pglite'
      ? new PgliteVacuum(driver, {
          ...(options.vacuumEveryMs !== undefined ? { everyMs: options.vacuumEveryMs } : {}),
          ...(options.onMaintenanceError ? { onError: options.onMaintenanceError } : {}),
        })
      : undefined;
  const pruner = new DedupPruner(driver, {
    ...(options.eventTtlMs !== undefined ? { eventTtlMs: options.eventTtlMs } : {}),
    ...(options.announcementRetentionMs !== undefined
      ? { announcementRetentionMs: options.announcementRetentionMs }
      : {}),
    ...(options.pruneEveryMs !== undefined ? { everyMs: options.pruneEveryMs } : {}),
    ...(options.onMaintenanceError ? { onError: options.onMaintenanceError } : {}),
  });
  try {
    await migrate(driver);
    // Entries a crash left pending are sealed before anything new is written.
    await chainer.flush();
    await vacuum?.vacuumNow();
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
  chainer.start();
  vacuum?.start();
  pruner.start();
  const store = new PersistentStore(driver, chainer, vacuum, pruner);
  store.auditKey = auditKey;
  return store;
}
