/**
 * The stream that carries pg's wire protocol to an in-process PGlite: one call into PGlite per pipeline, messages
 * split across writes reassembled, errors answered without ending the session, and a disconnect that leaves the
 * instance serving the next connection.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteWireStream } from '../../src/persistence/pgliteWire.js';

/** The type bytes of the messages in one batch handed to PGlite (the startup message, which has none, as '0'). */
function messageTypes(batch: Uint8Array): string {
  const buffer = Buffer.from(batch);
  if (buffer[0] === 0) return '0';
  let types = '';
  for (let at = 0; at + 5 <= buffer.length; at += 1 + buffer.readInt32BE(at + 1))
    types += String.fromCharCode(buffer[at] as number);
  return types;
}

describe('PgliteWireStream', () => {
  let db: PGlite;
  const batches: string[] = [];

  beforeAll(async () => {
    db = await PGlite.create();
    const raw = db.execProtocolRawStream.bind(db);
    db.execProtocolRawStream = (message, options) => {
      batches.push(messageTypes(message));
      return raw(message, options);
    };
  });

  afterAll(async () => {
    await db.close();
  });

  const connect = async () => {
    const client = new pg.Client({
      user: 'postgres',
      database: 'template1',
      stream: () => new PgliteWireStream(db) as never,
    });
    await client.connect();
    return client;
  };

  /** A stream driven by hand, past its startup; the batches seen are cleared. */
  const startedStream = async () => {
    const stream = new PgliteWireStream(db);
    const answers: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => answers.push(chunk));
    const write = (bytes: Buffer) =>
      new Promise<void>((resolve, reject) => stream.write(bytes, (e) => (e ? reject(e) : resolve())));
    await write(serialize.startup({ user: 'postgres', database: 'template1' }));
    batches.length = 0;
    return { stream, answers, write };
  };

  it('hands a parameterised statement to PGlite in one call, and a prepared one without its Parse', async () => {
    const client = await connect();
    try {
      batches.length = 0;
      const first = await client.query({ name: 'plus_one', text: 'select $1::int + 1 as n', values: [41] });
      const again = await client.query({ name: 'plus_one', text: 'select $1::int + 1 as n', values: [1] });
      expect([first.rows, again.rows]).toEqual([[{ n: 42 }], [{ n: 2 }]]);
      expect(batches).toEqual(['PBDES', 'BDES']);
    } finally {
      await client.end();
    }
  });

  it('answers an error and goes on serving the session', async () => {
    const client = await connect();
    try {
      const failure = await client.query('select * from no_such_table where id = $1', [1]).catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: '42P01', message: 'relation "no_such_table" does not exist' });
      expect((await client.query('select $1::text as word', ['still here'])).rows).toEqual([{ word: 'still here' }]);
    } finally {
      await client.end();
    }
  });

  it('waits for the rest of a message split across writes', async () => {
    const { stream, answers, write } = await startedStream();
    const query = serialize.query('select 7 as seven');
    await write(query.subarray(0, 6));
    expect(batches).toEqual([]);
    await write(query.subarray(6));
    expect(batches).toEqual(['Q']);
    const text = Buffer.concat(answers).toString('latin1');
    expect(text).toContain('seven');
    expect(text.endsWith('Z\u0000\u0000\u0000\u0005I')).toBe(true);
    stream.end();
  });

  it('gives a new connection a clean session after one broken mid-transaction', async () => {
    const broken = await connect();
    await broken.query('create table left_open (id integer)');
    await broken.query('begin');
    await broken.query({ name: 'insert_one', text: 'insert into left_open values ($1)', values: [1] });
    // As when a socket fails: the stream goes, without Terminate or ROLLBACK.
    broken.on('error', () => undefined);
    (broken as unknown as { connection: { stream: PgliteWireStream } }).connection.stream.destroy();
    const next = await connect();
    try {
      await next.query({ name: 'insert_one', text: 'insert into left_open values ($1)', values: [2] });
      expect((await next.query('select id from left_open')).rows).toEqual([{ id: 2 }]);
      expect(db.isInTransaction()).toBe(false);
    } finally {
      await next.end();
    }
  });

  it('keeps nothing of the answers it has passed on', async () => {
    v8.setFlagsFromString('--expose-gc');
    const collect = vm.runInNewContext('gc') as () => void;
    const client = await connect();
    try {
      const megabyte = { name: 'megabyte', text: "select repeat('x', 1000000) as filler, $1::int as n", values: [0] };
      await client.query(megabyte);
      collect();
      const before = process.memoryUsage();
      for (let n = 0; n < 100; n++) await client.query({ ...megabyte, values: [n] });
      collect();
      const after = process.memoryUsage();
      // 100 MB went through. Called directly, PGlite's execProtocolRaw keeps every answer, parsed, on the JavaScript
      // heap for the instance's life (+100 MB here); PGlite's own WebAssembly memory is not counted in heapUsed.
      expect(after.heapUsed - before.heapUsed).toBeLessThan(20e6);
    } finally {
      await client.end();
    }
  });

  it('answers what comes before a Terminate in the same write, and keeps the session for the next connection', async () => {
    const { stream, answers } = await startedStream();
    const ended = new Promise((resolve) => stream.once('end', resolve));
    stream.write(Buffer.concat([serialize.query('select 8 as eight'), serialize.end()]));
    await ended;
    expect(batches).toEqual(['Q']);
    expect(Buffer.concat(answers).toString('latin1')).toContain('eight');
    const next = await connect();
    try {
      expect((await next.query('select 9 as nine')).rows).toEqual([{ nine: 9 }]);
    } finally {
      await next.end();
    }
  });

  it('ends the stream on Terminate and leaves PGlite serving the next connection', async () => {
    const first = await connect();
    await first.query('create table kept (id integer)');
    await first.query('insert into kept values (1)');
    await first.end();
    const second = await connect();
    try {
      expect((await second.query('select id from kept')).rows).toEqual([{ id: 1 }]);
    } finally {
      await second.end();
    }
  });
});
