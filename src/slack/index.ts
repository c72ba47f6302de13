/** The Slack surface: Bolt app, ChatSurface implementation, Block Kit rendering, rate limiting. */
export {
  BLOCK_LIMITS,
  buttonValue,
  fitBlocks,
  renderSlackMessage,
  type SlackBlock,
  type SlackMessageContent,
} from './blocks.js';
export { type SlackErrorCode, SlackSurfaceError } from './errors.js';
export { negotiateModal, rejectModal } from './modals.js';
export { ChannelRateLimiter, type ChannelRateLimiterOptions } from './rateLimiter.js';
export {
  createSlackApp,
  SLACK_EVENTS_PATH,
  type SlackApp,
  type SlackAppLogger,
  type SlackAppOptions,
  type SlackChatPort,
} from './slackApp.js';
export {
  type CreateSlackSurfaceOptions,
  createSlackSurface,
  type SlackClientOptions,
  SlackSurface,
} from './slackSurface.js';
export { parseThreadKey, slackThread } from './threads.js';
