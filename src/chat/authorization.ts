/**
 * Who may decide on a contract: the approver configuration (Entra object ids, Slack user ids, named groups) and
 * separation of duties (the author of a change may not approve it when the contract excludes the author).
 * Pure: the surface resolves identities, this decides.
 */
import type { Contract } from '../domain/model.js';

/** What authorization reads from a contract (a revision's content, which never changes). */
export interface DecisionSubject {
  terms: Pick<Contract['terms'], 'excludeAuthor'>;
  deployment: Pick<Contract['deployment'], 'author'>;
  risk: Pick<Contract['risk'], 'level'>;
}

export function decisionSubject(contract: DecisionSubject): DecisionSubject {
  return {
    terms: { excludeAuthor: contract.terms.excludeAuthor },
    deployment: contract.deployment.author === undefined ? {} : { author: contract.deployment.author },
    risk: { level: contract.risk.level },
  };
}

import type { ChatActor } from './port.js';

export interface ApproverDirectory {
  /** Entra object ids (Teams `from.aadObjectId`). */
  teams: readonly string[];
  /** Slack user ids. */
  slack: readonly string[];
  /** Named groups of Entra object ids and/or Slack user ids. */
  groups: Readonly<Record<string, readonly string[]>>;
}

export interface AuthorizationPolicy {
  approvers: ApproverDirectory;
  /**
   * With no approver configured at all: true lets anyone decide (local development), false lets nobody decide
   * (production). The start-up log says which applies.
   */
  openWhenUnconfigured: boolean;
}

export type AuthorizationResult =
  | { allowed: true; via: string }
  | { allowed: false; code: 'not_an_approver' | 'self_approval'; reason: string };

export function hasApprovers(directory: ApproverDirectory): boolean {
  return directory.teams.length > 0 || directory.slack.length > 0 || Object.keys(directory.groups).length > 0;
}

/** Every id the actor is known by, lower-cased (GUIDs and e-mail addresses compare case-insensitively). */
export function actorIds(actor: ChatActor): Set<string> {
  return new Set([actor.id, ...(actor.aliases ?? [])].filter((id) => id !== '').map((id) => id.toLowerCase()));
}

/** Whether the actor is on the approver list (directly or through a group). */
export function approverMembership(actor: ChatActor, policy: AuthorizationPolicy): AuthorizationResult {
  const { approvers } = policy;
  if (!hasApprovers(approvers)) {
    return policy.openWhenUnconfigured
      ? { allowed: true, via: 'no approvers configured (development: anyone may decide)' }
      : {
          allowed: false,
          code: 'not_an_approver',
          reason:
            'no approvers are configured, so nobody can approve or reject (set TEAMS_APPROVERS or APPROVER_GROUPS)',
        };
  }
  const ids = actorIds(actor);
  const direct = actor.surface === 'teams' ? approvers.teams : approvers.slack;
  if (direct.some((id) => ids.has(id.toLowerCase()))) return { allowed: true, via: `${actor.surface} approver list` };
  for (const [group, members] of Object.entries(approvers.groups)) {
    if (members.some((id) => ids.has(id.toLowerCase()))) return { allowed: true, via: `group ${group}` };
  }
  return {
    allowed: false,
    code: 'not_an_approver',
    reason: 'you are not on the approver list for deployment contracts',
  };
}

/**
 * May `actor` approve (or reject) this contract? `requester` is whoever asked for the assessment in chat; the
 * deployment's own `author` field (an e-mail or login) is matched against the actor's ids and aliases too.
 */
export function authorizeDecision(input: {
  actor: ChatActor;
  decision: 'approve' | 'reject';
  contract: DecisionSubject;
  requester?: ChatActor | undefined;
  policy: AuthorizationPolicy;
}): AuthorizationResult {
  const membership = approverMembership(input.actor, input.policy);
  if (!membership.allowed) return membership;
  if (input.decision === 'approve' && input.contract.terms.excludeAuthor && isAuthor(input.actor, input)) {
    return {
      allowed: false,
      code: 'self_approval',
      reason: `this ${input.contract.risk.level}-risk contract needs an approver other than the change's author`,
    };
  }
  return membership;
}

function isAuthor(actor: ChatActor, input: { contract: DecisionSubject; requester?: ChatActor | undefined }): boolean {
  const ids = actorIds(actor);
  if (input.requester && [...actorIds(input.requester)].some((id) => ids.has(id))) return true;
  const author = input.contract.deployment.author?.toLowerCase();
  return author !== undefined && author !== '' && ids.has(author);
}
