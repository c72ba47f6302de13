/** Opens the durable store the configuration names: PostgreSQL when DATABASE_URL is set, else PGlite under the data dir. */
import { join } from 'node:path';
import type { AppConfig } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import { auditEvent } from '../observability/telemetry.js';
import { type AuditAnchor, openPersistentStore, type PersistentStore } from '../persistence/index.js';

export async function openAppStore(config: AppConfig, logger: Logger): Promise<PersistentStore> {
  const onAuditError = (error: unknown) =>
    logger.error({ err: error }, 'sealing the audit chain failed; pending entries are retried on the next write');
  const onMaintenanceError = (error: unknown) => logger.warn({ err: error }, 'store maintenance failed');
  // The audit head kept outside the database: a later `chaos audit verify --anchor-log` catches a rewound head.
  const onAuditSealed = (head: AuditAnchor) => {
    logger.info({ auditHead: head }, `audit chain sealed to entry ${head.seq}: anchor ${head.seq}:${head.hash}`);
    auditEvent('chain.sealed', { 'chaos.audit.head.seq': head.seq, 'chaos.audit.head.hash': head.hash });
  };
  const common = {
    onAuditError,
    onAuditSealed,
    onMaintenanceError,
    eventTtlMs: config.store.eventDedupTtlMs,
    announcementRetentionMs: config.store.announcementRetentionMs,
    ...(config.store.auditKey ? { auditKey: config.store.auditKey } : {}),
  };
  const store = config.databaseUrl
    ? await openPersistentStore({ databaseUrl: config.databaseUrl, ...common })
    : await openPersistentStore({ dataDir: join(config.dataDir, 'pglite'), ...common });
  logger.info(
    { store: store.kind, auditChain: config.store.auditKey ? 'hmac-sha256' : 'sha256' },
    store.kind === 'postgres' ? 'store: PostgreSQL' : `store: PGlite in ${join(config.dataDir, 'pglite')}`,
  );
  return store;
}
