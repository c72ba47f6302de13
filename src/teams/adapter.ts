/**
 * Builds the TeamsAdapter (botbuilder CloudAdapter) from the validated Teams authentication config.
 *
 * With an app id (secret or user-assigned managed identity) inbound requests must carry a valid Bot Framework JWT
 * and outbound calls are authenticated. With none, the CloudAdapter skips JWT validation and sends replies without
 * credentials to the activity's serviceUrl: that is only acceptable on 127.0.0.1 (the composition root binds there
 * and says so), and is what the local tests and the Agents Playground use.
 *
 * The adapter reuses Bot Connector clients across turns (see ./connectorCache.ts). TeamsAdapter builds its
 * ConfigurationBotFrameworkAuthentication itself and takes no BotFrameworkAuthentication, so ReusingTeamsAdapter
 * wraps the one it built, through CloudAdapterBase's protected `botFrameworkAuthentication`, before any turn runs.
 */
// The module itself, not teams-ai's index (see bot.ts).
import { TeamsAdapter } from '@microsoft/teams-ai/lib/TeamsAdapter.js';
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';
import type { BotFrameworkAuthentication, ServiceClientCredentialsFactory } from 'botframework-connector';
import type { TeamsAuth } from '../config/config.js';
import { type ReusingAuthenticationOptions, ReusingBotFrameworkAuthentication } from './connectorCache.js';

export interface BotCredentials {
  [key: string]: string | undefined;
  MicrosoftAppId?: string;
  MicrosoftAppPassword?: string;
  MicrosoftAppType?: string;
  MicrosoftAppTenantId?: string;
}

/** The botbuilder configuration keys for an auth setting; empty for `none`. */
export function botCredentials(auth: TeamsAuth): BotCredentials {
  switch (auth.kind) {
    case 'none':
      return {};
    case 'secret':
      return {
        MicrosoftAppId: auth.appId,
        MicrosoftAppPassword: auth.appPassword,
        MicrosoftAppType: auth.appType,
        ...(auth.tenantId ? { MicrosoftAppTenantId: auth.tenantId } : {}),
      };
    case 'managed-identity':
      return {
        MicrosoftAppId: auth.appId,
        MicrosoftAppType: 'UserAssignedMSI',
        MicrosoftAppTenantId: auth.tenantId,
      };
  }
}

/** The bot's app id for proactive messages ('' without authentication). */
export function botAppIdOf(auth: TeamsAuth): string {
  return auth.kind === 'none' ? '' : auth.appId;
}

/** A TeamsAdapter whose turns share connector and user token clients (bounded, keyed per app id, audience, URL). */
export class ReusingTeamsAdapter extends TeamsAdapter {
  readonly authentication: ReusingBotFrameworkAuthentication;
  // Redeclared (no emitted field) so that this constructor may replace what CloudAdapterBase stored.
  declare protected readonly botFrameworkAuthentication: BotFrameworkAuthentication;

  constructor(
    credentials: BotCredentials,
    credentialsFactory: ServiceClientCredentialsFactory,
    options: ReusingAuthenticationOptions = {},
  ) {
    super(credentials, credentialsFactory);
    this.authentication = new ReusingBotFrameworkAuthentication(this.botFrameworkAuthentication, options);
    // Nothing has read it yet: no turn can run before the constructor returns.
    this.botFrameworkAuthentication = this.authentication;
  }
}

export function createTeamsAdapter(auth: TeamsAuth, options: ReusingAuthenticationOptions = {}): ReusingTeamsAdapter {
  const credentials = botCredentials(auth);
  return new ReusingTeamsAdapter(credentials, new ConfigurationServiceClientCredentialFactory(credentials), options);
}
