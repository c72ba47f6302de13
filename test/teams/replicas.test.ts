/**
 * Two replicas of the bot, each the real composed app on its own port with its own store connection, on one
 * database: Teams (or a load balancer retrying) delivers the same message activity to both at once. The inbound
 * event is claimed in the store before the work (src/chat/inboundEvents.ts), so exactly one replica drafts, stores
 * and posts: one card, one contract. On PostgreSQL (DATABASE_URL) each replica has its own pool on one schema; without
 * it, both share one PGlite store (PGlite is one process's database), the claim still being the store's statement.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AppStore } from '../../src/app/compose.js';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import {
  type ConversationSpec,
  cardOf,
  type FakeConnector,
  messageActivity,
  sendToBot,
  startFakeConnector,
} from '../harness/fakeConnector.js';
import { DATABASE_URL, uniqueSchema } from '../persistence/backends.js';
import { APPROVER_A, APPROVER_B, DEVELOPER, startTestBot, type TestBot } from './support.js';

const ROUNDS = 8;

/** The same store for a second app, whose close() leaves it open for the first. */
function sharedHandle(store: PersistentStore): AppStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'close') return async () => undefined;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function openReplicaStores(): Promise<[AppStore, AppStore]> {
  if (DATABASE_URL) {
    const schema = uniqueSchema('replicas');
    const first = await openPersistentStore({ databaseUrl: DATABASE_URL, schema });
    return [first, await openPersistentStore({ databaseUrl: DATABASE_URL, schema })];
  }
  const store = await openPersistentStore({ dataDir: 'memory://' });
  return [store, sharedHandle(store)];
}

let connector: FakeConnector | undefined;
let replicas: TestBot[] = [];
afterEach(async () => {
  // The second replica first: with PGlite it only borrows the first one's store.
  for (const replica of [...replicas].reverse()) await replica.close();
  replicas = [];
  await connector?.close();
  connector = undefined;
});

describe(`two replicas on one ${DATABASE_URL ? 'PostgreSQL' : 'PGlite store'}`, () => {
  it('the same message delivered to both at once makes one card and one contract', async () => {
    connector = await startFakeConnector();
    const [storeA, storeB] = await openReplicaStores();
    const env = { TEAMS_APPROVERS: [APPROVER_A.aadObjectId, APPROVER_B.aadObjectId].join(',') };
    // Different id suffixes, as two processes draw different random ones: two contracts could both be stored.
    let a = 0;
    let b = 0;
    replicas.push(await startTestBot(storeA, env, { newIdSuffix: () => `a${++a}` }));
    replicas.push(await startTestBot(storeB, env, { newIdSuffix: () => `b${++b}` }));
    const [first, second] = replicas as [TestBot, TestBot];

    for (let round = 1; round <= ROUNDS; round++) {
      const thread: ConversationSpec = {
        id: `19:replicas@thread.tacv2;messageid=root${round}`,
        type: 'channel',
      };
      const activity = messageActivity(
        connector.serviceUrl,
        thread,
        DEVELOPER,
        `assess service=checkout version=3.${round}.0 files=src/api/cart.ts:80 rollback=true`,
      );
      const answers = await Promise.all([sendToBot(first.url, activity), sendToBot(second.url, activity)]);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
      await connector.waitFor((x) => x.method === 'POST' && x.activityId === activity.id);
      await Promise.all(replicas.map((r) => r.app.chat.background.idle()));

      const cards = connector.activities.filter(
        (x) => x.method === 'POST' && x.activityId === activity.id && cardOf(x.body) !== undefined,
      );
      expect(cards, `round ${round}: cards posted`).toHaveLength(1);
      const contracts = (await storeA.recentContracts({ service: 'checkout', limit: 100 })).filter(
        (c) => c.deployment.version === `3.${round}.0`,
      );
      expect(contracts, `round ${round}: contracts stored`).toHaveLength(1);
    }
  }, 60_000);
});
