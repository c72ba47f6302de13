/**
 * State survives a restart: a card posted by one server process is approved through the next one, and proactive
 * posts (what the rollout guardian does) reach the contract's thread from the stored conversation reference.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStore } from '../../src/app/compose.js';
import { openPersistentStore } from '../../src/persistence/index.js';
import {
  actionActivity,
  type ConversationSpec,
  cardOf,
  type FakeConnector,
  messageActivity,
  sendToBot,
  startFakeConnector,
} from '../harness/fakeConnector.js';
import { DATABASE_URL, uniqueSchema } from '../persistence/backends.js';
import { APPROVER_A, DEVELOPER, startTestBot } from './support.js';

/** Opens the store a server process would open; the same data on every call. */
export type StoreFactory = () => Promise<AppStore>;

export function restartSuite(name: string, factory: () => { open: StoreFactory; cleanup: () => Promise<void> }) {
  describe(name, () => {
    let connector: FakeConnector;
    let env: ReturnType<typeof factory>;

    beforeAll(async () => {
      connector = await startFakeConnector();
      env = factory();
    });
    afterAll(async () => {
      await connector?.close();
      await env?.cleanup();
    });

    it('approves after a restart between assess and approve, and posts proactively into the thread', async () => {
      const thread: ConversationSpec = { id: '19:restart@thread.tacv2;messageid=root-r', type: 'channel' };
      const first = await startTestBot(await env.open());
      const message = messageActivity(
        connector.serviceUrl,
        thread,
        DEVELOPER,
        'assess service=checkout version=9.9.9 files=src/api/cart.ts:80 rollback=true',
      );
      expect((await sendToBot(first.url, message)).status).toBe(200);
      const posted = await connector.waitFor((a) => a.activityId === message.id);
      const actions = (cardOf(posted.body)?.actions ?? []) as { verb?: string; data?: Record<string, unknown> }[];
      const approve = actions.find((a) => a.verb === 'contract.approve');
      await first.close();

      const second = await startTestBot(await env.open());
      try {
        const response = await sendToBot(
          second.url,
          actionActivity(connector.serviceUrl, thread, APPROVER_A, posted.id, 'contract.approve', approve?.data ?? {}),
        );
        expect(response.status).toBe(200);
        expect(JSON.stringify((response.body as { value: unknown }).value)).toContain('✅ Approved by Ada Approver');
        await connector.waitFor((a) => a.method === 'PUT' && a.activityId === posted.id);

        const contractId = String(approve?.data?.contractId);
        const link = await second.app.store.getLink(contractId);
        expect(link?.thread.key).toBe(thread.id);
        if (!link) throw new Error('no link');
        const alert = await second.app.teams.postInThread(link.thread, {
          text: 'error rate 0.41 % > 0.3 % (n = 5,210)',
        });
        const received = await connector.waitFor((a) => a.method === 'POST' && a.id === alert.messageId);
        expect(received.conversationId).toBe(thread.id);
        expect(received.body.text).toContain('0.41 %');
        await second.app.teams.updateCard(
          { thread: link.thread, messageId: link.cardMessageId },
          {
            kind: 'contract',
            input: { contract: (await second.app.store.getContract(contractId))!, notice: 'rolling out' },
          },
        );
        const edit = await connector.waitFor(
          (a) =>
            a.method === 'PUT' && a.activityId === link.cardMessageId && JSON.stringify(a.body).includes('rolling out'),
        );
        expect(edit.conversationId).toBe(thread.id);
        await expect(
          second.app.teams.postInThread({ surface: 'teams', key: '19:unknown@thread.tacv2' }, { text: 'x' }),
        ).rejects.toMatchObject({ code: 'teams_no_conversation_reference' });
      } finally {
        await second.close();
      }
    });
  });
}

restartSuite('restart on PGlite (files on disk)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-teams-restart-'));
  return {
    open: () => openPersistentStore({ dataDir: dir }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

if (DATABASE_URL) {
  const url = DATABASE_URL;
  restartSuite('restart on PostgreSQL', () => {
    const schema = uniqueSchema('teams_restart');
    return { open: () => openPersistentStore({ databaseUrl: url, schema }), cleanup: async () => {} };
  });
}
