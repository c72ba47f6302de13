/**
 * In-process implementations of the ledger and callback ports: correct for a single replica, bounded so a flood
 * of deliveries cannot grow memory without limit (the oldest entries are forgotten first).
 */
import type { AnnouncementLedger, ProtectionCallback, ProtectionCallbackStore, StoredCallback } from './port.js';

const DEFAULT_MAX_ENTRIES = 20_000;

export function createMemoryLedger(options: { maxEntries?: number } = {}): AnnouncementLedger {
  const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const entries = new Map<string, string>();
  return {
    async lookup(key) {
      return entries.get(key);
    },
    async record(key, contractId) {
      entries.delete(key);
      entries.set(key, contractId);
      evictOldest(entries, max);
    },
  };
}

export function createMemoryCallbackStore(options: { maxContracts?: number } = {}): ProtectionCallbackStore {
  const max = options.maxContracts ?? DEFAULT_MAX_ENTRIES;
  const byContract = new Map<string, StoredCallback[]>();
  return {
    async add(contractId: string, callback: ProtectionCallback) {
      const list = byContract.get(contractId) ?? [];
      if (!list.some((entry) => entry.callback.url === callback.url)) list.push({ callback: { ...callback } });
      byContract.delete(contractId);
      byContract.set(contractId, list);
      evictOldest(byContract, max);
    },
    async list(contractId) {
      return (byContract.get(contractId) ?? []).map((entry) => ({ ...entry, callback: { ...entry.callback } }));
    },
    async markReported(contractId, callbackUrl, state) {
      const entry = byContract.get(contractId)?.find((e) => e.callback.url === callbackUrl);
      if (entry) entry.reported = state;
    },
  };
}

function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    map.delete(oldest.value);
  }
}
