/** Opens the durable store the configuration names: PostgreSQL when DATABASE_URL is set, else PGlite under the data dir. */
import { join } from 'node:path';
import type { AppConfig } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import { openPersistentStore, type PersistentStore } from '../persistence/index.js';

export async function openAppStore(config: AppConfig, logger: Logger): Promise<PersistentStore> {
  const onAuditError = (error: unknown) =>
    logger.error({ err: error }, 'sealing the audit chain failed; pending entries are retried on the next write');
  const onMaintenanceError = (error: unknown) => logger.warn({ err: error }, 'vacuuming the embedded store failed');
  const store = config.databaseUrl
    ? await openPersistentStore({ databaseUrl: config.databaseUrl, onAuditError })
    : await openPersistentStore({ dataDir: join(config.dataDir, 'pglite'), onAuditError, onMaintenanceError });
  logger.info(
    { store: store.kind },
    store.kind === 'postgres' ? 'store: PostgreSQL' : `store: PGlite in ${join(config.dataDir, 'pglite')}`,
  );
  return store;
}
