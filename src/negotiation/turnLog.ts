/** In-memory TurnLog: tests, benchmarks and the CLI. The store's adapter provides the durable one. */
import type { NegotiationTurn, TurnLog } from './types.js';

export class InMemoryTurnLog implements TurnLog {
  private readonly byContract = new Map<string, NegotiationTurn[]>();

  async append(turn: NegotiationTurn): Promise<void> {
    const list = this.byContract.get(turn.contractId) ?? [];
    list.push(structuredClone(turn));
    this.byContract.set(turn.contractId, list);
  }

  async list(contractId: string): Promise<NegotiationTurn[]> {
    return structuredClone(this.byContract.get(contractId) ?? []);
  }
}
