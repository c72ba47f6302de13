/** Which delivery announced which contract, and the GitHub callbacks waiting for a decision: durable and shared. */
import type {
  AnnouncementLedger,
  ProtectionCallback,
  ProtectionCallbackStore,
  StoredCallback,
} from '../announce/port.js';
import type { SqlDriver } from './driver.js';

export class SqlAnnouncementLedger implements AnnouncementLedger {
  constructor(private readonly db: SqlDriver) {}

  async lookup(key: string): Promise<string | undefined> {
    const [row] = await this.db.query<{ contract_id: string }>('select contract_id from announcements where key = $1', [
      key,
    ]);
    return row?.contract_id;
  }

  async record(key: string, contractId: string): Promise<void> {
    await this.db.query(
      'insert into announcements (key, contract_id, created_at) values ($1, $2, $3) on conflict (key) do nothing',
      [key, contractId, new Date()],
    );
  }
}

export class SqlProtectionCallbackStore implements ProtectionCallbackStore {
  constructor(private readonly db: SqlDriver) {}

  async add(contractId: string, callback: ProtectionCallback): Promise<void> {
    await this.db.query(
      `insert into protection_callbacks (contract_id, url, callback, created_at) values ($1, $2, $3, $4)
       on conflict (contract_id, url) do nothing`,
      [contractId, callback.url, JSON.stringify(callback), new Date()],
    );
  }

  async list(contractId: string): Promise<StoredCallback[]> {
    const rows = await this.db.query<{ callback: ProtectionCallback; reported: 'approved' | 'rejected' | null }>(
      'select callback, reported from protection_callbacks where contract_id = $1 order by created_at',
      [contractId],
    );
    return rows.map((r) => ({ callback: r.callback, ...(r.reported ? { reported: r.reported } : {}) }));
  }

  async markReported(contractId: string, callbackUrl: string, state: 'approved' | 'rejected'): Promise<void> {
    await this.db.query('update protection_callbacks set reported = $3 where contract_id = $1 and url = $2', [
      contractId,
      callbackUrl,
      state,
    ]);
  }
}
