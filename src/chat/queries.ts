/** Read-only commands: status, history, policy, help. */
import type { HelpCardInput, PolicyCardInput } from '../views/cardViews.js';
import { isPlausibleId } from './commands.js';
import { type ChatContext, cardInput, contractHere } from './context.js';
import { invalidArgument, noContractHere, unknownContract } from './errorCards.js';
import { helpContent } from './help.js';
import type { ChatMessage, IncomingMessage } from './port.js';

const HISTORY_LIMIT = 15;

export async function status(ctx: ChatContext, message: IncomingMessage, contractId?: string): Promise<ChatMessage> {
  if (contractId !== undefined && !isPlausibleId(contractId)) {
    return { card: invalidArgument('status', 'contract-id', contractId) };
  }
  const id = contractId ?? (await contractHere(ctx, message));
  if (id === undefined) return { card: noContractHere('status') };
  const contract = await ctx.store.getContract(id);
  if (!contract) return { card: unknownContract(id) };
  const input = await cardInput(ctx, contract);
  const events = ctx.store.recentAudit ? await ctx.store.recentAudit(contract.id, 8) : [];
  return {
    card: {
      kind: 'status',
      input: {
        ...input,
        events: events.map(
          (e) =>
            `${e.at.toISOString().slice(0, 16).replace('T', ' ')} ${e.type}${e.actor?.displayName ? ` by ${e.actor.displayName}` : ''}${e.revision ? ` (r${e.revision})` : ''}${e.reason ? `: ${e.reason}` : ''}`,
        ),
      },
    },
  };
}

export async function history(ctx: ChatContext, service?: string): Promise<ChatMessage> {
  if (service !== undefined && !isPlausibleId(service)) return { card: invalidArgument('history', 'service', service) };
  const contracts = await ctx.store.recentContracts({ ...(service ? { service } : {}), limit: HISTORY_LIMIT + 1 });
  return {
    card: {
      kind: 'history',
      input: {
        ...(service ? { service } : {}),
        entries: contracts.slice(0, HISTORY_LIMIT).map((c) => ({
          contractId: c.id,
          version: c.deployment.version,
          level: c.risk.level,
          score: c.risk.score,
          state: c.state,
          revision: c.revision,
          createdAt: c.createdAt,
        })),
        more: contracts.length > HISTORY_LIMIT ? 1 : 0,
      },
    },
  };
}

export function policyInput(ctx: ChatContext): PolicyCardInput {
  const { approvers } = ctx.authorization;
  return {
    policy: ctx.policy,
    approvers: { teams: approvers.teams.length, slack: approvers.slack.length, groups: Object.keys(approvers.groups) },
  };
}

export function help(ctx: ChatContext, intro?: string): HelpCardInput {
  return helpContent({
    pullRequests: ctx.pullRequests !== undefined,
    rollouts: ctx.rollouts !== undefined,
    ...(intro ? { intro } : {}),
  });
}
