/**
 * The durable store: PGlite under a data directory by default, PostgreSQL when DATABASE_URL is set — the same
 * schema and SQL. Migrations run when it opens.
 */
import type { Storage } from 'botbuilder';
import { SqlAnnouncementLedger, SqlProtectionCallbackStore } from './announcements.js';
import { type AuditVerification, verifyAuditChain } from './auditLog.js';
import { SqlBotStorage } from './botStorage.js';
import { SqlContractStore } from './contractStore.js';
import { type DriverOptions, openDriver, type SqlDriver } from './driver.js';
import { migrate } from './migrations.js';
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

  constructor(readonly driver: SqlDriver) {
    super(driver);
    this.botStorage = new SqlBotStorage(driver);
    this.turnLog = new SqlTurnLog(driver);
    this.rollouts = new SqlRolloutRepository(driver);
    this.announcements = new SqlAnnouncementLedger(driver);
    this.protectionCallbacks = new SqlProtectionCallbackStore(driver);
  }

  get kind(): SqlDriver['kind'] {
    return this.driver.kind;
  }

  verifyAudit(): Promise<AuditVerification> {
    return verifyAuditChain(this.driver);
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    try {
      await this.driver.query('select 1');
      return { ok: true, detail: this.driver.kind };
    } catch (error) {
      return { ok: false, detail: `${this.driver.kind}: ${(error as Error).message}` };
    }
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

export async function openPersistentStore(options: DriverOptions): Promise<PersistentStore> {
  const driver = await openDriver(options);
  try {
    await migrate(driver);
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
  return new PersistentStore(driver);
}
