/** What the process needs from persistence: its own module so compose.ts and the integrations share it without a cycle. */
import type { InboundEventStore } from '../chat/inboundEvents.js';
import type { ChatStore } from '../chat/store.js';
import type { TurnLog } from '../negotiation/types.js';
import type { SqlStatistics } from '../persistence/driver.js';
import type { ReferenceStore } from '../teams/surface.js';

/** Everything the process needs from persistence (src/store, adapted in ./storeAdapter.ts). */
export interface AppStore extends ChatStore, ReferenceStore, InboundEventStore {
  turnLog: TurnLog;
  health(): Promise<{ ok: boolean; detail?: string }>;
  close(): Promise<void>;
  /** The SQL driver's counters, exported on /metrics when present. */
  driver?: { statistics(): SqlStatistics };
}
