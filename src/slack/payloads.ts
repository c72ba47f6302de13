/**
 * The shapes of what Slack posts to /slack/events, validated before anything acts on them: the envelope (so a body
 * Bolt cannot route gets a 400 naming the problem instead of hanging until Bolt's 3-second "unhandled" answer) and
 * the fields each handler reads.
 */
import { z } from 'zod';

const id = z.string().min(1).max(64);
const ts = z.string().regex(/^\d{1,12}\.\d{1,8}$/, 'must be a Slack timestamp (seconds.micros)');

const INTERACTIVE_TYPES = [
  'block_actions',
  'view_submission',
  'view_closed',
  'shortcut',
  'message_action',
  'block_suggestion',
  'interactive_message',
  'dialog_submission',
  'dialog_cancellation',
] as const;

const eventEnvelope = z.object({
  type: z.literal('event_callback'),
  event_id: id,
  event: z.object({ type: z.string().min(1).max(100) }).passthrough(),
});

const interactiveEnvelope = z.object({
  type: z.enum(INTERACTIVE_TYPES),
  user: z.object({ id }).passthrough(),
});

const commandEnvelope = z.object({
  command: z.string().regex(/^\/[^\s]{1,80}$/, 'must be a slash command name'),
  user_id: id,
  channel_id: id,
  text: z.string().max(40_000).optional(),
});

const otherEnvelope = z.object({ type: z.enum(['url_verification', 'app_rate_limited']) }).passthrough();

/** Why Bolt could not route this body, or undefined when it can. */
export function describeSlackPayloadProblem(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object or form';
  const record = body as Record<string, unknown>;
  if ('command' in record) return firstIssue(commandEnvelope.safeParse(body), 'slash command');
  if (record.type === 'event_callback') return firstIssue(eventEnvelope.safeParse(body), 'event');
  if (typeof record.type === 'string' && (INTERACTIVE_TYPES as readonly string[]).includes(record.type)) {
    return firstIssue(interactiveEnvelope.safeParse(body), record.type);
  }
  if (otherEnvelope.safeParse(body).success) return undefined;
  return typeof record.type === 'string'
    ? `unsupported payload type "${record.type.slice(0, 40)}"`
    : 'neither an event, an interaction nor a slash command';
}

function firstIssue(result: z.SafeParseReturnType<unknown, unknown>, what: string): string | undefined {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  if (!issue) return `invalid ${what}`;
  return `invalid ${what}: ${issue.path.length > 0 ? issue.path.join('.') : 'body'} ${issue.message}`;
}

// ---------------------------------------------------------------------------------------------------------------
// What the handlers read

export const appMentionSchema = z.object({
  type: z.literal('app_mention'),
  user: id.optional(),
  bot_id: z.string().optional(),
  text: z.string().max(40_000).default(''),
  ts,
  thread_ts: ts.optional(),
  channel: id,
});

export const directMessageSchema = z.object({
  type: z.literal('message'),
  channel_type: z.literal('im'),
  subtype: z.undefined(),
  bot_id: z.undefined(),
  user: id,
  text: z.string().max(40_000).default(''),
  ts,
  thread_ts: ts.optional(),
  channel: id,
});

export const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  trigger_id: z.string().min(1).max(200),
  user: z.object({ id, name: z.string().optional(), username: z.string().optional() }).passthrough(),
  response_url: z.string().url().optional(),
  container: z
    .object({
      message_ts: ts.optional(),
      channel_id: id.optional(),
      thread_ts: ts.optional(),
      is_ephemeral: z.boolean().optional(),
    })
    .passthrough()
    .optional(),
  channel: z.object({ id }).passthrough().optional(),
  message: z.object({ ts, thread_ts: ts.optional() }).passthrough().optional(),
  actions: z
    .array(
      z
        .object({ action_id: z.string().min(1).max(255), value: z.string().max(2000).optional(), type: z.string() })
        .passthrough(),
    )
    .min(1),
});
export type BlockActionsBody = z.infer<typeof blockActionsSchema>;

export const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id, name: z.string().optional(), username: z.string().optional() }).passthrough(),
  view: z
    .object({
      callback_id: z.string().max(255),
      private_metadata: z.string().max(3000).optional(),
      state: z.object({ values: z.unknown() }).passthrough(),
    })
    .passthrough(),
});

export const slashCommandSchema = z.object({
  command: z.string(),
  text: z.string().max(40_000).default(''),
  user_id: id,
  user_name: z.string().optional(),
  channel_id: id,
  response_url: z.string().url().optional(),
});

/** A button's `value`: JSON `{contractId, revision}` (validated again by the chat service). */
export function parseButtonValue(value: string | undefined): unknown {
  if (value === undefined || value.length > 2000) return {};
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return {};
  }
}
