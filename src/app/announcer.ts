/**
 * Announced deployments (CI intake, GitHub protection rules) through the chat service: the contract card goes into
 * the channel the services file names for the service, in a thread of its own, exactly as `assess` would post it.
 */

import { AnnounceError } from '../announce/errors.js';
import type { AnnounceInput, AnnounceResult, ContractStatus, DeploymentAnnouncer } from '../announce/port.js';
import type { ChatActor, ChatSurface, MessageRef, Replier, SurfaceName } from '../chat/port.js';
import type { ChatService } from '../chat/service.js';
import type { ChatStore } from '../chat/store.js';
import { routeForService, type ServiceDirectory } from '../config/services.js';
import { auditEvent } from '../observability/telemetry.js';
import type { ReferenceStore } from '../teams/surface.js';

export interface AnnouncerOptions {
  chat: ChatService;
  store: ChatStore & ReferenceStore;
  surfaces: Partial<Record<SurfaceName, ChatSurface>>;
  services?: ServiceDirectory;
  /** The bot's app id ('' without authentication), for Teams conversation references seeded from the services file. */
  botAppId: string;
  publicUrl?: string;
}

const ORIGIN_ACTOR: Record<AnnounceInput['origin']['kind'], string> = {
  'ci-intake': 'CI pipeline',
  'github-protection-rule': 'GitHub deployment protection rule',
};

export function createChatAnnouncer(options: AnnouncerOptions): DeploymentAnnouncer {
  const { chat, store, surfaces } = options;
  const linkOf = (contractId: string) =>
    options.publicUrl
      ? `${options.publicUrl.replace(/\/$/, '')}/api/contracts/${encodeURIComponent(contractId)}`
      : undefined;

  /** Posting into a Teams channel starts a reply chain: its key is `<channel>;messageid=<posted id>`. */
  async function teamsReplier(
    conversationId: string,
    serviceUrl: string | undefined,
    tenantId: string | undefined,
  ): Promise<Replier> {
    const channelKey = `ref:${conversationId}`;
    const known = await store.getConversationRef('teams', channelKey);
    if (!known) {
      if (!serviceUrl) {
        throw new AnnounceError(
          'announce_unknown_service',
          `the bot has not seen Teams channel ${conversationId} yet: add serviceUrl to its route in the services file, or mention the bot there once`,
        );
      }
      await store.saveConversationRef('teams', channelKey, {
        channelId: 'msteams',
        serviceUrl,
        ...(options.botAppId ? { bot: { id: options.botAppId } } : {}),
        conversation: {
          id: conversationId,
          isGroup: true,
          conversationType: 'channel',
          ...(tenantId ? { tenantId } : {}),
        },
      });
    }
    const surface = surfaces.teams;
    if (!surface) throw new AnnounceError('announce_unknown_service', 'the Teams surface is not enabled');
    return {
      async reply(message): Promise<MessageRef> {
        const posted = await surface.postInThread({ surface: 'teams', key: conversationId }, message);
        if (!posted.messageId) return posted;
        const threadKey = `${conversationId};messageid=${posted.messageId}`;
        const channelRef = (await store.getConversationRef('teams', channelKey)) as { conversation: object };
        await store.saveConversationRef('teams', `ref:${threadKey}`, {
          ...channelRef,
          conversation: { ...channelRef.conversation, id: threadKey },
        });
        return { thread: { surface: 'teams', key: threadKey }, messageId: posted.messageId };
      },
    };
  }

  return {
    async announce(input: AnnounceInput): Promise<AnnounceResult> {
      const service = input.request.serviceName;
      const route = options.services ? routeForService(options.services, service) : undefined;
      if (!route) {
        throw new AnnounceError(
          'announce_unknown_service',
          `no channel is configured for service ${service} (CHAOS_SERVICES_FILE)`,
        );
      }
      let replier: Replier;
      let surfaceName: SurfaceName;
      let conversationKey: string;
      if (route.teams && surfaces.teams) {
        replier = await teamsReplier(route.teams.conversationId, route.teams.serviceUrl, route.teams.tenantId);
        surfaceName = 'teams';
        conversationKey = route.teams.conversationId;
      } else if (route.slack && surfaces.slack) {
        const slack = surfaces.slack;
        const channel = route.slack.channelId;
        replier = { reply: (message) => slack.postInThread({ surface: 'slack', key: channel }, message) };
        surfaceName = 'slack';
        conversationKey = channel;
      } else {
        throw new AnnounceError(
          'announce_unknown_service',
          `service ${service} routes to a chat surface that is not enabled`,
        );
      }
      const actor: ChatActor = {
        id: `${input.origin.kind}:${input.request.author ?? 'unknown'}`,
        displayName: ORIGIN_ACTOR[input.origin.kind],
        surface: surfaceName,
        // The change's author may not approve it either, when the policy says so.
        ...(input.request.author ? { aliases: [input.request.author] } : {}),
      };
      const contract = await chat.announce(input.request, { actor, conversationKey, replier });
      const url = linkOf(contract.id);
      return { contractId: contract.id, revision: contract.revision, state: contract.state, ...(url ? { url } : {}) };
    },

    async status(contractId: string): Promise<ContractStatus | undefined> {
      const contract = await store.getContract(contractId);
      if (!contract) return undefined;
      const approvals = await store.approvals(contract.id, contract.revision);
      const rejection =
        contract.state === 'rejected' ? await store.rejection(contract.id, contract.revision) : undefined;
      const url = linkOf(contract.id);
      return {
        contractId: contract.id,
        revision: contract.revision,
        state: contract.state,
        contentHash: contract.contentHash,
        risk: { score: contract.risk.score, level: contract.risk.level },
        decidedBy: rejection ? [rejection.actorName] : approvals.map((a) => a.actorName),
        ...(rejection?.reason ? { reason: rejection.reason } : {}),
        ...(url ? { url } : {}),
        contract,
      };
    },
  };
}

/**
 * Calls `onDecided` after every decision that settles a contract (approved or rejected), whatever surface it came
 * from (the GitHub protection-rule callbacks hang on it), and mirrors audit entries to OpenTelemetry.
 */
export function notifyDecisions<S extends ChatStore>(store: S, onDecided: (contractId: string) => void): S {
  const wrapped = Object.create(store) as S;
  // Audit entries also go to OpenTelemetry (Application Insights when configured; a no-op tracer otherwise).
  wrapped.audit = async (entry) => {
    await store.audit(entry);
    auditEvent(entry.type, {
      ...(entry.contractId ? { contractId: entry.contractId } : {}),
      ...(entry.revision !== undefined ? { revision: entry.revision } : {}),
      ...(entry.actor ? { actor: `${entry.actor.surface}:${entry.actor.id}` } : {}),
    });
  };
  wrapped.recordDecision = async (input) => {
    const result = await store.recordDecision(input);
    if (result.outcome === 'recorded') {
      auditEvent(input.decision === 'approve' ? 'decision.approved' : 'decision.rejected', {
        contractId: input.contractId,
        revision: input.revision,
        actor: `${input.actor.surface}:${input.actor.id}`,
        state: result.contract.state,
      });
    }
    if (
      result.outcome === 'recorded' &&
      (result.contract.state === 'approved' || result.contract.state === 'rejected')
    ) {
      onDecided(input.contractId);
    }
    return result;
  };
  return wrapped;
}
