/** The Slack app manifest agrees with what the app listens to and calls. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { SLACK_EVENTS_PATH } from '../../src/slack/slackApp.js';

const manifestSchema = z.object({
  display_information: z.object({
    name: z.string().min(1).max(35),
    description: z.string().max(140),
    long_description: z.string().min(175).max(4000),
    background_color: z.string().regex(/^#[0-9a-f]{6}$/i),
  }),
  features: z.object({
    bot_user: z.object({ display_name: z.string().regex(/^[a-z0-9._-]{1,80}$/), always_online: z.boolean() }),
    slash_commands: z.array(
      z.object({
        command: z.string().regex(/^\/[a-z0-9_-]{1,31}$/),
        url: z.string(),
        description: z.string().max(2000),
        usage_hint: z.string().max(1000),
        should_escape: z.boolean(),
      }),
    ),
  }),
  oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()) }) }),
  settings: z.object({
    event_subscriptions: z.object({ request_url: z.string(), bot_events: z.array(z.string()) }),
    interactivity: z.object({ is_enabled: z.literal(true), request_url: z.string() }),
    socket_mode_enabled: z.boolean(),
  }),
});

const path = fileURLToPath(new URL('../../slack-app-manifest.yaml', import.meta.url));
const manifest = manifestSchema.parse(parse(readFileSync(path, 'utf8')));

describe('slack-app-manifest.yaml', () => {
  it('points every URL at /slack/events on the bot’s host', () => {
    const urls = [
      manifest.settings.event_subscriptions.request_url,
      manifest.settings.interactivity.request_url,
      ...manifest.features.slash_commands.map((c) => c.url),
    ];
    for (const url of urls) expect(url).toBe(`https://<your-host>${SLACK_EVENTS_PATH}`);
  });

  it('subscribes to the events the app handles and has the scopes they and the Web API calls need', () => {
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual(['app_mention', 'message.im']);
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/chaos']);
    const scopes = new Set(manifest.oauth_config.scopes.bot);
    // app_mention → app_mentions:read; message.im → im:history; /chaos → commands;
    // chat.postMessage / chat.update / chat.postEphemeral → chat:write; users.info → users:read (+ .email).
    for (const scope of [
      'app_mentions:read',
      'im:history',
      'commands',
      'chat:write',
      'users:read',
      'users:read.email',
    ]) {
      expect(scopes.has(scope)).toBe(true);
    }
    // No history scopes beyond direct messages: the bot does not read channel conversations.
    expect([...scopes].filter((s) => s.endsWith(':history'))).toEqual(['im:history']);
  });
});
