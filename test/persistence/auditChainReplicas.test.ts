/**
 * Several replicas on one PostgreSQL: each stages audit entries and runs its own chainer. The chain they build
 * together must hold every entry exactly once, in one linear order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPersistentStore, type PersistentStore } from '../../src/persistence/index.js';
import { DATABASE_URL, uniqueSchema } from './backends.js';

describe.skipIf(!DATABASE_URL)('audit chain across replicas (PostgreSQL)', () => {
  const opened: PersistentStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('chains every entry of three concurrent writers exactly once', async () => {
    const schema = uniqueSchema('audit');
    const first = await openPersistentStore({ databaseUrl: DATABASE_URL, schema });
    opened.push(first);
    const replicas = [
      first,
      await openPersistentStore({ databaseUrl: DATABASE_URL, schema }),
      await openPersistentStore({ databaseUrl: DATABASE_URL, schema }),
    ];
    opened.push(...replicas.slice(1));
    const perReplica = 150;
    await Promise.all(
      replicas.map(async (store, r) => {
        for (let batch = 0; batch < perReplica / 10; batch++) {
          await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              store.audit({ type: 'x', contractId: `r${r}`, data: { n: batch * 10 + i }, at: new Date() }),
            ),
          );
        }
      }),
    );
    await Promise.all(replicas.map((s) => s.sealAudit()));
    const result = await first.verifyAudit();
    expect(result).toMatchObject({ ok: true, entries: 3 * perReplica, pending: 0 });
    const perWriter = await first.driver.query<{ subject: string; n: string; distinct_n: string }>(
      `select subject, count(*) as n, count(distinct payload -> 'data' ->> 'n') as distinct_n
       from audit_log group by subject order by subject`,
    );
    expect(perWriter.map((r) => [r.subject, Number(r.n), Number(r.distinct_n)])).toEqual([
      ['r0', perReplica, perReplica],
      ['r1', perReplica, perReplica],
      ['r2', perReplica, perReplica],
    ]);
  });

  it('seals entries a replica left pending when it died, from another replica', async () => {
    const schema = uniqueSchema('audit');
    const survivor = await openPersistentStore({ databaseUrl: DATABASE_URL, schema });
    opened.push(survivor);
    // What a replica killed between its commit and its chainer's run leaves behind.
    await survivor.driver.query(
      `insert into audit_pending (at, actor, action, subject, payload)
       values ('2026-11-24T10:00:00.000Z', 'teams:sre-1', 'decision.approved', 'ctr-1', '{"revision": 1}')`,
    );
    await expect.poll(async () => (await survivor.verifyAudit()).entries, { timeout: 5_000 }).toBe(1);
  });
});
