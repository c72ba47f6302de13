/**
 * botbuilder's Storage on SQL, for teams-ai turn state, with the eTag rules of botbuilder's MemoryStorage: a write
 * whose eTag is neither `*` nor the stored one fails; every write gets a new eTag.
 */
import { randomUUID } from 'node:crypto';
import type { Storage, StoreItems } from 'botbuilder';
import type { SqlDriver } from './driver.js';

export class SqlBotStorage implements Storage {
  constructor(private readonly db: SqlDriver) {}

  async read(keys: string[]): Promise<StoreItems> {
    if (keys.length === 0) return {};
    const rows = await this.db.query<{ key: string; etag: string; document: Record<string, unknown> }>(
      'select key, etag, document from bot_state where key = any($1::text[])',
      [keys],
    );
    const items: StoreItems = {};
    for (const row of rows) items[row.key] = { ...row.document, eTag: row.etag };
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    for (const [key, value] of Object.entries(changes)) {
      const { eTag, ...document } = (value ?? {}) as Record<string, unknown> & { eTag?: string };
      const next = randomUUID();
      const json = JSON.stringify(document);
      if (!eTag || eTag === '*') {
        await this.db.query(
          `insert into bot_state (key, etag, document, updated_at) values ($1, $2, $3, now())
           on conflict (key) do update set etag = excluded.etag, document = excluded.document, updated_at = now()`,
          [key, next, json],
        );
        continue;
      }
      const updated = await this.db.execute(
        'update bot_state set etag = $2, document = $3, updated_at = now() where key = $1 and etag = $4',
        [key, next, json, eTag],
      );
      if (updated === 1) continue;
      const inserted = await this.db.execute(
        `insert into bot_state (key, etag, document, updated_at) values ($1, $2, $3, now()) on conflict (key) do nothing`,
        [key, next, json],
      );
      if (inserted === 0) throw new Error(`Storage: error writing "${key}" due to eTag conflict.`);
    }
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.query('delete from bot_state where key = any($1::text[])', [keys]);
  }
}
