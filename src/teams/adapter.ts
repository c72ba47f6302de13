/**
 * Builds the TeamsAdapter (botbuilder CloudAdapter) from the validated Teams authentication config.
 *
 * With an app id (secret or user-assigned managed identity) inbound requests must carry a valid Bot Framework JWT
 * and outbound calls are authenticated. With none, the CloudAdapter skips JWT validation and sends replies without
 * credentials to the activity's serviceUrl: that is only acceptable on 127.0.0.1 (the composition root binds there
 * and says so), and is what the local tests and the Agents Playground use.
 */
// The module itself, not teams-ai's index (see bot.ts).
import { TeamsAdapter } from '@microsoft/teams-ai/lib/TeamsAdapter.js';
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';
import type { TeamsAuth } from '../config/config.js';

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

export function createTeamsAdapter(auth: TeamsAuth): TeamsAdapter {
  const credentials = botCredentials(auth);
  return new TeamsAdapter(credentials, new ConfigurationServiceClientCredentialFactory(credentials));
}
