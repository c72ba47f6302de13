/** The help card's content: every command with its usage, and examples that work as typed. */

import { CHAT_REQUEST_KEYS } from '../domain/chatRequest.js';
import type { HelpCardInput } from '../views/cardViews.js';

export function helpContent(options: { pullRequests: boolean; rollouts: boolean; intro?: string }): HelpCardInput {
  const assessSources = options.pullRequests
    ? 'key=value pairs, a pasted deployment JSON, a .json file sent to the bot in a Teams personal chat, or a pull request link'
    : 'key=value pairs, a pasted deployment JSON, or a .json file sent to the bot in a Teams personal chat (pull request links need GITHUB_TOKEN)';
  const rollout = options.rollouts ? '' : ' (needs the rollout guardian)';
  return {
    ...(options.intro ? { intro: options.intro, introTone: 'warning' as const } : {}),
    commands: [
      {
        usage: 'assess <input>',
        description: `Scores the change and posts its contract card. Input: ${assessSources}. Keys: ${CHAT_REQUEST_KEYS.filter((k) => !k.includes('_')).join(', ')}.`,
      },
      { usage: 'status [contract-id]', description: 'Where a contract stands (this thread’s contract when no id).' },
      { usage: 'history [service]', description: 'Recent contracts, for one service or all.' },
      { usage: 'policy', description: 'The risk policy: default terms per level and the non-negotiable floor.' },
      {
        usage: 'start | pause | promote | rollback [contract-id]',
        description: `Drive an approved rollout${rollout}.`,
      },
      { usage: 'help', description: 'This card.' },
    ],
    examples: [
      'assess service=checkout version=2.4.0 files=db/migrations/0042_add_index.sql:40,src/api/cart.ts:80 rollback=true',
      'assess {"deployment_id":"d-1","service_name":"checkout","environment":"production","version":"2.4.0","changes":[]}',
      ...(options.pullRequests ? ['assess https://github.com/contoso/shop/pull/128'] : []),
      'status',
      'history checkout',
      'can we start the canary at 25%? it is a config-only change   (a reply in a contract thread: with @chaos in Slack; in a Teams channel without it only if the app may read channel messages)',
    ],
  };
}
