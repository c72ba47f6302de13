/**
 * The durable store: PGlite under a data directory by default, PostgreSQL when DATABASE_URL is set — the same
 * schema and SQL. Migrations run when it opens.
 */
import type { Storage } from 'botbuilder';
import { SqlAnnouncementLedger, SqlProtectionCallbackStore } from './announcements.js';
import { AuditChainer, type AuditVerification, verifyAuditChain } from './auditLog.js';
import { SqlBotStorage } from './botStorage.js';
import { SqlContractStore } from './contractStore.js';
import { type DriverOptions, openDriver, type SqlDriver } from './driver.js';
import { migrate } from './migrations.js';
import { PgliteVacuum } from './pgliteVacuum.js';
import { SqlRolloutRepository } from './rolloutRepository.js';
import { SqlTurnLog } from './turnLog.js';

export type { AuditVerification } from './auditLog.js';
export { StoreError } from './driver.js';

export class PersistentStore extends SqlContractStore {
  readonly botStorage: Storage;
  readonly turnLog: SqlTurnLog;
  readonly rollouts: SqlRolloutRepository;
  readonly announcements: SqlAnnouncementLedger;
  readonly protectionCallbacks: SqlProtectionCallbackStore;
  private readonly auditChainer: AuditChainer;

  constructor(
    readonly driver: SqlDriver,
    auditChainer = new AuditChainer(driver),
    private readonly vacuum?: PgliteVacuum,
  ) {
    super(driver, () => auditChainer.kick());
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

  /** Seals what this process has pending, then walks the chain. */
  async verifyAudit(): Promise<AuditVerification> {
    await this.auditChainer.flush();
    return verifyAuditChain(this.driver);
  }

  /** Seals every pending audit entry now (they are otherwise sealed within a few tens of milliseconds). */
  sealAudit(): Promise<void> {
    return this.auditChainer.flush();
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
      await this.auditChainer.stop();
    } finally {
      await this.driver.close();
    }
  }
}

export interface PersistentStoreOptions extends DriverOptions {
  /** Told when sealing the audit chain fails (it is retried on the next write and sweep). */
  onAuditError?: (error: unknown) => void;
  /** PGlite only: how often the rewritten tables are vacuumed (default 10 minutes). */
  vacuumEveryMs?: number;
  onMaintenanceError?: (error: unknown) => void;
}

export async function openPersistentStore(options: PersistentStoreOptions): Promise<PersistentStore> {
  const driver = await openDriver(options);
  const chainer = new AuditChainer(driver, options.onAuditError ? { onError: options.onAuditError } : {});
  const vacuum =
    driver.kind === 'pglite'
      ? new PgliteVacuum(driver, {
          ...(options.vacuumEveryMs !== undefined ? { everyMs: options.vacuumEveryMs } : {}),
          ...(options.onMaintenanceError ? { onError: options.onMaintenanceError } : {}),
        })
      : undefined;
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
  return new PersistentStore(driver, chainer, vacuum);
}
