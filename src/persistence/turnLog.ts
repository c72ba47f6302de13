/** Negotiation turns on SQL, so a conversation survives restarts and is shared by replicas. */
import type { NegotiationTurn, TurnLog } from '../negotiation/types.js';
import type { SqlDriver } from './driver.js';

export class SqlTurnLog implements TurnLog {
  constructor(private readonly db: SqlDriver) {}

  async append(turn: NegotiationTurn): Promise<void> {
    await this.db.query(
      'insert into negotiation_turns (contract_id, revision, role, turn, at) values ($1, $2, $3, $4, $5)',
      [turn.contractId, turn.revision, turn.role, JSON.stringify(turn), turn.at],
    );
  }

  async list(contractId: string): Promise<NegotiationTurn[]> {
    const rows = await this.db.query<{ turn: NegotiationTurn }>(
      'select turn from negotiation_turns where contract_id = $1 order by id',
      [contractId],
    );
    return rows.map((r) => r.turn);
  }
}
