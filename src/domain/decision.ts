/**
 * The one rule that decides an Approve / Reject click, whichever store records it. Checked in this order: stale
 * revision, not open (the contract state machine), not authorised (the approver directory), separation of duties
 * (an identity the directory could not confirm fails closed), duplicate, quorum. Pure: the store hands in the latest
 * revision and its decisions under its lock and writes what this returns.
 */
import { canTransition, transition } from './contractState.js';
import type { Contract, ContractState } from './model.js';

export type DecisionKind = 'approve' | 'reject';

/** What the directory said about the clicker: `resolved` (e-mail / UPN known), or why it could not say. */
export type DirectoryLookup = 'resolved' | 'not_found' | 'failed';

/** Someone who clicks or asked for the assessment (a chat actor fits). */
export interface Decider {
  id: string;
  surface: 'teams' | 'slack';
  displayName?: string;
  /** Other ids of the same person (channel account id, e-mail / UPN). */
  aliases?: string[];
  /** Set by the surface after looking the clicker up; absent when nobody looked. */
  directory?: DirectoryLookup;
}

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

export type RefusalCode = 'not_an_approver' | 'self_approval' | 'identity_unknown';

export type Membership = { allowed: true; via: string } | { allowed: false; code: RefusalCode; reason: string };

/** What decide reads of a revision. */
export interface DecisionSubject {
  revision: number;
  state: ContractState;
  terms: Pick<Contract['terms'], 'excludeAuthor' | 'approvalsRequired'>;
  deployment: Pick<Contract['deployment'], 'author'>;
  risk: Pick<Contract['risk'], 'level'>;
}

/** A decision already recorded on the revision. */
export interface RecordedDecision {
  decision: DecisionKind;
  actorId: string;
}

export interface Click {
  /** The revision on the card that was clicked. */
  revision: number;
  decision: DecisionKind;
  actor: Decider;
  /** Whoever asked for the assessment in chat, when known. */
  requester?: Decider | undefined;
  policy: AuthorizationPolicy;
}

export type Verdict =
  | { outcome: 'recorded'; state: ContractState; approvals: number; required: number; via: string }
  | { outcome: 'stale_revision' | 'not_open' | 'duplicate' }
  | { outcome: 'refused'; code: RefusalCode; reason: string };

/** The verdict on a click against the latest revision (`contract`) and the decisions already on it. */
export function decide(contract: DecisionSubject, decisions: readonly RecordedDecision[], click: Click): Verdict {
  if (click.revision !== contract.revision) return { outcome: 'stale_revision' };
  if (!canTransition(contract.state, click.decision)) return { outcome: 'not_open' };
  const membership = approverMembership(click.actor, click.policy);
  if (!membership.allowed) return { outcome: 'refused', code: membership.code, reason: membership.reason };
  const duties = separationOfDuties(contract, click);
  if (duties) return { outcome: 'refused', code: duties.code, reason: duties.reason };
  if (decisions.some((d) => d.actorId === click.actor.id && d.decision === click.decision)) {
    return { outcome: 'duplicate' };
  }
  const approvals =
    new Set(decisions.filter((d) => d.decision === 'approve').map((d) => d.actorId)).size +
    (click.decision === 'approve' ? 1 : 0);
  const required = contract.terms.approvalsRequired;
  let state = contract.state;
  if (click.decision === 'reject') state = transition(contract.state, 'reject');
  else if (approvals >= required) state = transition(contract.state, 'approve');
  return { outcome: 'recorded', state, approvals, required, via: membership.via };
}

/** Whether Approve / Reject still make sense in a state (the card shows its buttons then). */
export function isOpenForDecision(state: ContractState): boolean {
  return canTransition(state, 'approve') && canTransition(state, 'reject');
}

export function hasApprovers(directory: ApproverDirectory): boolean {
  return directory.teams.length > 0 || directory.slack.length > 0 || Object.keys(directory.groups).length > 0;
}

/** Every id someone is known by, lower-cased (GUIDs and e-mail addresses compare case-insensitively). */
export function deciderIds(who: Pick<Decider, 'id' | 'aliases'>): Set<string> {
  return new Set([who.id, ...(who.aliases ?? [])].filter((id) => id !== '').map((id) => id.toLowerCase()));
}

/** Whether the actor is on the approver list (directly or through a group). */
export function approverMembership(actor: Decider, policy: AuthorizationPolicy): Membership {
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
  const ids = deciderIds(actor);
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
 * The author of a change may not approve it when the contract excludes the author. The author is whoever asked in
 * chat and the deployment's own `author` (an e-mail or login). Matching that needs the clicker's e-mail / UPN from
 * the directory: when the directory could not say, nobody can tell the clicker is not the author, so it is refused.
 */
function separationOfDuties(
  contract: DecisionSubject,
  click: Click,
): { code: RefusalCode; reason: string } | undefined {
  if (click.decision !== 'approve' || !contract.terms.excludeAuthor) return undefined;
  const ids = deciderIds(click.actor);
  const requester = click.requester;
  const author = contract.deployment.author?.trim().toLowerCase() ?? '';
  const isRequester = requester !== undefined && [...deciderIds(requester)].some((id) => ids.has(id));
  if (isRequester || (author !== '' && ids.has(author))) {
    return {
      code: 'self_approval',
      reason: `this ${contract.risk.level}-risk contract needs an approver other than the change's author`,
    };
  }
  // Ids only compare within a surface; another surface's requester, or an e-mail author, needs the directory.
  const needsDirectory = author !== '' || (requester !== undefined && requester.surface !== click.actor.surface);
  if (needsDirectory && click.actor.directory !== 'resolved') {
    return { code: 'identity_unknown', reason: unknownIdentityReason(click.actor) };
  }
  return undefined;
}

function unknownIdentityReason(actor: Decider): string {
  const why =
    actor.directory === 'failed'
      ? 'the directory lookup of your account failed or timed out'
      : actor.directory === 'not_found'
        ? 'the directory has no entry for your account'
        : 'your account was not looked up in the directory';
  const fix =
    actor.surface === 'teams'
      ? 'the bot reads your e-mail and UPN from the conversation roster (it must be installed in this team or chat)'
      : 'the bot reads your e-mail with users.info (the Slack app needs the users:read and users:read.email scopes)';
  return `this contract needs an approver other than the change's author, and I could not confirm that is not you: ${why}. Click again in a minute; if it keeps failing, ${fix}`;
}
