/**
 * The framework floor for bench:teams-floor: the same HTTP and Bot Framework stack as the real server (express,
 * botbuilder's CloudAdapter through teams-ai's TeamsAdapter, a teams-ai Application with the same options) with
 * handlers that do no work of their own. A message is answered with a fixed Adaptive Card posted to the connector; an
 * Approve click with the same card in the invoke response and an edit of the posted card through a proactive turn,
 * as the real bot does. No store, no domain, no card expansion. Prints its URL on stdout.
 */
import { AdaptiveCardActionExecuteResponseType } from '@microsoft/teams-ai/lib/AdaptiveCards.js';
import { Application } from '@microsoft/teams-ai/lib/Application.js';
import type { TurnState } from '@microsoft/teams-ai/lib/TurnState.js';
import { ActivityTypes, type ConversationReference, TurnContext } from 'botbuilder';
import express from 'express';
import { createTeamsAdapter } from '../../src/teams/adapter.js';

const card = {
  type: 'AdaptiveCard',
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
  version: '1.5',
  body: [{ type: 'TextBlock', text: 'Deployment contract', weight: 'Bolder', wrap: true }],
  actions: [{ type: 'Action.Execute', title: 'Approve', verb: 'contract.approve', data: { contractId: 'c-1' } }],
};
const cardActivity = {
  type: ActivityTypes.Message,
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
};

const adapter = createTeamsAdapter({ kind: 'none' });
const app = new Application<TurnState>({
  adapter,
  removeRecipientMention: true,
  startTypingTimer: false,
  longRunningMessages: false,
  adaptiveCards: { actionExecuteResponseType: AdaptiveCardActionExecuteResponseType.REPLACE_FOR_ALL },
});
app.activity(ActivityTypes.Message, async (context) => {
  await context.sendActivity(cardActivity);
});
app.activity(ActivityTypes.Invoke, async (context) => {
  const reference: Partial<ConversationReference> = TurnContext.getConversationReference(context.activity);
  const messageId = context.activity.replyToId ?? '';
  void adapter.continueConversationAsync('', reference, async (proactive) => {
    await proactive.updateActivity({ ...cardActivity, id: messageId });
  });
  await context.sendActivity({
    type: ActivityTypes.InvokeResponse,
    value: { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card } },
  });
});

const http = express();
http.post('/api/messages', express.json({ limit: '256kb' }), async (req, res) => {
  await adapter.process(req, res, async (context) => void (await app.run(context)));
});
const server = http.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
