/**
 * Lets the `pg` driver talk to an in-process PGlite: a stream that stands in for pg's socket and hands the
 * PostgreSQL wire protocol to PGlite's `execProtocolRawStream`, so the embedded store runs the same driver code, type
 * parsing and error codes as PostgreSQL.
 *
 * Messages are handed over a whole pipeline at a time, up to the next Sync, Query, Flush or Terminate: a
 * parameterised statement (Parse, Bind, Describe, Execute, Sync) is one call into PGlite. PGlite's own `query` makes
 * a call per message and asks for the parameter types first, which cost about twice as much per statement
 * (a keyed select: 0.19 ms against 0.37 ms in a micro-benchmark); `@electric-sql/pglite-socket`
 * also hands messages over one by one, and needs a network socket.
 */
import { Duplex } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';
import { serialize } from 'pg-protocol';

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const FLUSH = 0x48; // 'H'
const TERMINATE = 0x58; // 'X'

/** A pg `stream`: `new pg.Pool({ stream: () => new PgliteWireStream(db) })`. */
export class PgliteWireStream extends Duplex {
  private pending: Buffer[] = [];
  private startupDone = false;
  private terminated = false;

  constructor(private readonly db: PGlite) {
    super();
  }

  // The socket surface pg's Connection uses.
  connect(): this {
    process.nextTick(() => this.emit('connect'));
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const ready = this.terminated ? undefined : this.takeCompletePipeline(chunk);
    if (!ready || ready.length === 0) {
      // A disconnect only ends this stream: PGlite serves one session for the life of the instance.
      if (this.terminated) this.push(null);
      callback();
      return;
    }
    this.run(ready).then(
      () => callback(),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.push(null);
    callback();
  }

  /**
   * The buffered messages up to and including the last one that asks for an answer (or up to a Terminate, left out),
   * or undefined while none is complete.
   */
  private takeCompletePipeline(chunk: Buffer): Buffer | undefined {
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([...this.pending, chunk]);
    let at = 0;
    let end = 0;
    if (!this.startupDone) {
      // The startup message has no type byte: a length, then the protocol version.
      if (buffer.length < 4 || buffer.length < buffer.readInt32BE(0)) return this.keep(buffer);
      end = at = buffer.readInt32BE(0);
      this.startupDone = true;
    }
    while (at + 5 <= buffer.length) {
      const type = buffer[at] as number;
      if (type === TERMINATE) {
        // Never handed to PGlite: in its single-user backend, Terminate would end the one session for good.
        this.terminated = true;
        this.keep(Buffer.alloc(0));
        return buffer.subarray(0, at);
      }
      const next = at + 1 + buffer.readInt32BE(at + 1);
      if (next > buffer.length) break;
      if (type === SYNC || type === QUERY || type === FLUSH) end = next;
      at = next;
    }
    if (end === 0) return this.keep(buffer);
    this.keep(buffer.subarray(end));
    return buffer.subarray(0, end);
  }

  private keep(rest: Buffer): undefined {
    this.pending = rest.length > 0 ? [rest] : [];
    return undefined;
  }

  private async run(messages: Buffer): Promise<void> {
    if (messages[0] === 0) await this.resetSession();
    // Streamed, not execProtocolRaw: that one also parses every answer into a list PGlite keeps for the instance's
    // life when called directly (2 GB after the guardian bench), and the parse was CPU nobody used.
    await this.db.execProtocolRawStream(messages, {
      // A view into PGlite's memory, reused after the call: copied.
      onRawData: (chunk) => {
        this.push(Buffer.from(chunk));
      },
    });
    if (this.terminated) this.push(null);
  }

  /**
   * A new connection gets the session an earlier one left (there is only one): roll back the transaction a broken
   * connection may have left open, and drop its prepared statements, which the new pg client does not know about
   * and would prepare again under the same names.
   */
  private async resetSession(): Promise<void> {
    const reset = this.db.isInTransaction() ? 'rollback; deallocate all' : 'deallocate all';
    await this.db.execProtocolRawStream(serialize.query(reset), { onRawData: () => undefined });
  }
}
