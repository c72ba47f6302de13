/**
 * Issue 3: "a child process killed with SIGKILL in the middle of a burst of decisions; after a restart every
 * acknowledged decision is present and the audit chain verifies." Two kill/restart cycles on one store, then a
 * separate process reopens it, checks, and writes once more.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditVerification } from '../../src/persistence/index.js';
import { LOCATIONS, resultOf, runToEnd, type StoreLocation, startFixture } from './support.js';

interface Inspection {
  openMs: number;
  decisionKeys: string[];
  auditedKeys: (string | null)[];
  verifyAfterCrash: AuditVerification;
  writeAfterRestart: string;
  verifyAfterWrite: AuditVerification;
}

const ACKS_BEFORE_KILL = 150;

describe.each(LOCATIONS)('crash safety on $name', ({ make }) => {
  let location: StoreLocation | undefined;
  afterEach(async () => {
    await location?.dispose();
    location = undefined;
  });

  it('keeps every acknowledged decision and a valid audit chain across SIGKILLs', async () => {
    location = make('crash');
    const acked: string[] = [];
    for (const run of ['a', 'b']) {
      const child = startFixture('decisionBurst.ts', [...location.args, '--run', run], `burst ${run}`);
      try {
        await child.until(
          `${ACKS_BEFORE_KILL} acks`,
          (lines) => lines.filter((l) => l.startsWith('ack ')).length >= ACKS_BEFORE_KILL,
          60_000,
        );
      } finally {
        const exit = await child.kill();
        expect(exit.signal).toBe('SIGKILL');
      }
      // Lines read after the kill signal still count: the child printed them only after committing.
      const acks = child.linesStartingWith('ack ');
      expect(acks.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
      acked.push(...acks);
    }

    const inspector = startFixture('inspectDecisions.ts', location.args, 'inspect');
    const exit = await runToEnd(inspector, 90_000);
    expect(exit.code, inspector.describe()).toBe(0);
    const result = resultOf<Inspection>(inspector);

    const stored = new Set(result.decisionKeys);
    const audited = new Set(result.auditedKeys);
    expect(acked.filter((key) => !stored.has(key))).toEqual([]);
    // A decision and its audit entry commit together: the decisions killed in flight left neither.
    expect([...stored].sort()).toEqual([...audited].sort());
    expect(result.auditedKeys).toHaveLength(audited.size);
    // Decisions committed just before the kill may lack an ack; an ack never lacks its decision.
    expect(stored.size).toBeGreaterThanOrEqual(new Set(acked).size);
    expect(result.verifyAfterCrash).toMatchObject({ ok: true });
    expect(result.verifyAfterCrash.entries).toBeGreaterThanOrEqual(acked.length);
    expect(result.writeAfterRestart).toBe('recorded');
    expect(result.verifyAfterWrite).toEqual({
      ok: true,
      entries: result.verifyAfterCrash.entries + 1,
      head: expect.any(String),
      pending: 0,
      checks: expect.any(Array),
    });
  }, 180_000);
});
