/**
 * The chat use cases on the real store (PGlite, and PostgreSQL when DATABASE_URL is set) and on the test double, with
 * a recording chat surface: negotiation saves before it posts, thread-aware parsing, rollouts in the contract's
 * thread, and redelivered messages finishing unfinished work.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ChatSurface, IncomingMessage, MessageRef, Replier, ThreadRef } from '../../src/chat/port.js';
import { ChatService, type RolloutControl } from '../../src/chat/service.js';
import type { ChatStore } from '../../src/chat/store.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createNegotiationService, InMemoryTurnLog } from '../../src/negotiation/index.js';
import { BACKENDS } from '../persistence/backends.js';
import { MemoryChatStore } from './memoryChatStore.js';

const DEV = { id: 'dev-1', displayName: 'Dana Dev', surface: 'slack' as const };
const HIGH = 'service=checkout version=2.4.0 files=db/migrations/001_add_index.sql:40,src/api/cart.ts:80 rollback=true';

interface Posted {
  thread: ThreadRef;
  message: ChatMessage;
  /** The contract's latest revision in the store when the post went out. */
  storedRevision: number | undefined;
}

const STORES: { name: string; open(): Promise<ChatStore & { close?(): Promise<void> }> }[] = [
  ...BACKENDS.map((b) => ({ name: b.name, open: () => b.open() })),
  { name: 'memory double', open: async () => new MemoryChatStore() },
];

describe.each(STORES)('chat use cases on $name', (backend) => {
  let store: ChatStore & { close?(): Promise<void> };
  let posts: Posted[];
  let rolloutThreads: ThreadRef[];
  let chat: ChatService;
  let seq = 0;
  let watched: string | undefined;

  const surface: ChatSurface = {
    surface: 'slack',
    async postCard(thread, card, text) {
      return this.postInThread(thread, { card, ...(text ? { text } : {}) });
    },
    async postInThread(thread, message): Promise<MessageRef> {
      const storedRevision = watched ? (await store.getContract(watched))?.revision : undefined;
      posts.push({ thread, message, storedRevision });
      return { thread, messageId: `m${posts.length}` };
    },
    async updateCard() {},
    async resolveUser() {
      return undefined;
    },
  };
  const rollouts: RolloutControl = {
    async command(input) {
      rolloutThreads.push(input.thread);
      return { text: `${input.kind} accepted` };
    },
  };

  // One store per engine (opening PGlite takes seconds); every test works in threads of its own.
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await store.close?.();
  });
  beforeEach(() => {
    posts = [];
    rolloutThreads = [];
    watched = undefined;
    chat = new ChatService({
      store,
      negotiation: createNegotiationService({
        model: { provider: 'offline' },
        policy: DEFAULT_POLICY,
        turns: new InMemoryTurnLog(),
      }),
      surfaces: { slack: surface },
      policy: DEFAULT_POLICY,
      authorization: { approvers: { teams: [], slack: [DEV.id], groups: {} }, openWhenUnconfigured: false },
      newIdSuffix: () => `n${++seq}`,
      rollouts,
    });
  });
  afterEach(async () => {
    await chat.background.idle();
  });

  const thread = (key: string): ThreadRef => ({ surface: 'slack', key });
  const message = (text: string, where: ThreadRef, eventId?: string): IncomingMessage => ({
    surface: 'slack',
    text,
    actor: DEV,
    conversationKind: 'channel',
    thread: where,
    conversationKey: 'C1',
    attachments: [],
    ...(eventId ? { eventId } : {}),
  });
  const replierIn = (where: ThreadRef, fail = 0): Replier & { sent: ChatMessage[] } => {
    let failures = fail;
    const sent: ChatMessage[] = [];
    return {
      sent,
      async reply(reply) {
        if (failures > 0) {
          failures -= 1;
          throw new Error('connector down');
        }
        sent.push(reply);
        return { thread: where, messageId: `r${sent.length}` };
      },
    };
  };

  /** Assesses in a fresh thread; returns the contract id and the thread. */
  async function assessed(key: string): Promise<{ id: string; where: ThreadRef }> {
    const where = thread(key);
    const replier = replierIn(where);
    await chat.handleMessage(message(`assess ${HIGH}`, where, `ev-${key}`), replier);
    const card = replier.sent[0]?.card;
    if (card?.kind !== 'contract') throw new Error('expected a contract card');
    return { id: card.input.contract.id, where };
  }

  it('two amendments accepted in one turn are one revision, stored before the reply is posted', async () => {
    const { id, where } = await assessed('t-two');
    watched = id;
    await chat.handleMessage(message('start at 20% and bake for 45 minutes', where), replierIn(where));
    await chat.background.idle();
    const contract = await store.getContract(id);
    expect(contract?.revision).toBe(2);
    expect(contract?.terms.ramp.steps[0]?.trafficPercent).toBe(20);
    expect(contract?.terms.ramp.bakeTimeSeconds).toBe(2700);
    const reply = posts.find((p) => p.message.text?.includes('Contract is now at revision'));
    expect(reply?.message.text).toContain('Contract is now at revision 2');
    // The reply went out after the revision was stored: what the thread says happened has happened.
    expect(reply?.storedRevision).toBe(2);
    expect(posts.some((p) => p.message.card?.kind === 'contract')).toBe(true);
    const audit = (await store.recentAudit?.(id, 20)) ?? [];
    expect(audit.filter((e) => e.type === 'contract.amended').map((e) => e.revision)).toEqual([2]);
  });

  it('in a contract thread, "start the canary at 20 %" is negotiation, not start of a contract named "the"', async () => {
    const { id, where } = await assessed('t-start');
    const replier = replierIn(where);
    await chat.handleMessage(message('start the canary at 20 %', where), replier);
    await chat.background.idle();
    expect(rolloutThreads).toEqual([]);
    expect(replier.sent).toEqual([]);
    expect((await store.getContract(id))?.terms.ramp.steps[0]?.trafficPercent).toBe(20);
  });

  it('the rollout goes to the contract’s own thread wherever start was typed', async () => {
    const { id, where } = await assessed('t-rollout');
    const top = thread('C1');
    const replier = replierIn(top);
    await chat.handleMessage(message(`start ${id}`, top), replier);
    expect(rolloutThreads).toEqual([where]);
    expect(replier.sent[0]?.text).toBe('start accepted');
  });

  it('a redelivered message finishes the post its first delivery could not make, and makes one contract', async () => {
    const where = thread('t-redeliver');
    const failing = replierIn(where, 1);
    await expect(chat.handleMessage(message(`assess ${HIGH}`, where, 'ev-once'), failing)).rejects.toThrow(
      'connector down',
    );
    const before = await store.recentContracts({ limit: 100 });
    const id = (await store.contractForThread('slack', where.key)) ?? '';
    expect(id).not.toBe('');
    // Stored with its thread link and audit entry before the post was tried.
    expect((await store.recentAudit?.(id, 5))?.map((e) => e.type)).toContain('contract.created');

    const again = replierIn(where);
    await chat.handleMessage(message(`assess ${HIGH}`, where, 'ev-once'), again);
    expect(again.sent).toHaveLength(1);
    expect(again.sent[0]?.card?.kind).toBe('contract');
    expect(await store.recentContracts({ limit: 100 })).toHaveLength(before.length);
    expect((await store.getLink(id))?.cardMessageId).toBe('r1');
  });

  it('a redelivery of work done but not marked done (a crash after the post) posts nothing and makes no contract', async () => {
    const { id, where } = await assessed('t-posted');
    const before = await store.recentContracts({ limit: 100 });
    const again = replierIn(where);
    await chat.handleMessage(message(`assess ${HIGH}`, where, 'ev-t-posted'), again);
    expect(again.sent).toEqual([]);
    expect(await store.recentContracts({ limit: 100 })).toHaveLength(before.length);
    expect((await store.getLink(id))?.cardMessageId).toBe('r1');
    // Another message in the same thread is new work: a second contract.
    const other = replierIn(where);
    await chat.handleMessage(message(`assess ${HIGH}`, where, 'ev-t-posted-2'), other);
    expect(other.sent[0]?.card?.kind).toBe('contract');
    expect(await store.recentContracts({ limit: 100 })).toHaveLength(before.length + 1);
  });
});
