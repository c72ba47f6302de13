/**
 * A file-backed TurnLog (one JSON line per turn, append-only) for the CLI and single-process setups without the
 * database store. Turns survive restarts; a torn last line (crash mid-write) is skipped, not fatal.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { NegotiationTurn, TurnLog } from './types.js';

export class JsonlTurnLog implements TurnLog {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  append(turn: NegotiationTurn): Promise<void> {
    const line = `${JSON.stringify(turn)}\n`;
    const write = this.queue.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(this.file, line, 'utf8');
    });
    this.queue = write.catch(() => undefined);
    return write;
  }

  async list(contractId: string): Promise<NegotiationTurn[]> {
    await this.queue;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const out: NegotiationTurn[] = [];
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      try {
        const turn = JSON.parse(line) as NegotiationTurn;
        if (turn.contractId === contractId) out.push(turn);
      } catch {
        // torn write: ignore the line
      }
    }
    return out;
  }
}
