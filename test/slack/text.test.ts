import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/chat/commands.js';
import { clip, escapeMrkdwn, markdownToMrkdwn, slackTextToPlain, stripBotMention } from '../../src/slack/mrkdwn.js';
import { describeSlackPayloadProblem, parseButtonValue } from '../../src/slack/payloads.js';
import { conversationKindOfChannel, parseThreadKey, slackThread } from '../../src/slack/threads.js';

describe('mrkdwn out', () => {
  it('escapes the three control characters', () => {
    expect(escapeMrkdwn('a < b && c > d <!channel>')).toBe('a &lt; b &amp;&amp; c &gt; d &lt;!channel&gt;');
  });

  it('turns the chat layer’s markdown into mrkdwn', () => {
    expect(markdownToMrkdwn('**Accepted**: bake `2 h` — see [the policy](https://example.com/p?a=1&b=2) <@U1>')).toBe(
      '*Accepted*: bake `2 h` — see <https://example.com/p?a=1&b=2|the policy> &lt;@U1&gt;',
    );
  });

  it('clips without splitting a surrogate pair or an escape', () => {
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('ab😀cd', 4)).toBe('ab…');
    expect(clip('abc &amp; d', 7)).toBe('abc …');
    expect(clip('short', 10)).toBe('short');
  });
});

describe('Slack text in', () => {
  it('unwraps links, mail links, channels and special mentions', () => {
    expect(
      slackTextToPlain('assess <https://github.com/o/r/pull/12> see <mailto:a@b.c|a@b.c> in <#C1|deploys> <!here>'),
    ).toBe('assess https://github.com/o/r/pull/12 see a@b.c in #deploys @here');
    expect(slackTextToPlain('<https://x.example/a|x.example/a>')).toBe('https://x.example/a');
  });

  it('removes the bot’s mention only', () => {
    expect(stripBotMention('<@UBOT1> assess for <@UOTHER>', 'UBOT1')).toBe('assess for <@UOTHER>');
    expect(stripBotMention('<@UBOT1|chaos> help', 'UBOT1')).toBe('help');
    expect(stripBotMention('<@UBOT1> help', undefined)).toBe('help');
  });

  it('pasted JSON and key=value pairs survive Slack’s escaping and reach the command parser intact', () => {
    const slack = '<@UBOT1> assess ```{"service_name": "a&amp;b", "url": "<https://x.example/y>"}```';
    const command = parseCommand(slackTextToPlain(stripBotMention(slack, 'UBOT1')));
    expect(command).toEqual({ kind: 'assess', args: '```{"service_name": "a&b", "url": "https://x.example/y"}```' });
    const pr = parseCommand(slackTextToPlain('assess <https://github.com/contoso/shop/pull/128>'));
    expect(pr).toEqual({ kind: 'assess', args: 'https://github.com/contoso/shop/pull/128' });
  });
});

describe('threads', () => {
  it('round-trips thread keys and refuses malformed ones', () => {
    expect(parseThreadKey(slackThread('C123', '1766000000.000100').key)).toEqual({
      channel: 'C123',
      threadTs: '1766000000.000100',
    });
    expect(parseThreadKey(slackThread('D123').key)).toEqual({ channel: 'D123' });
    for (const bad of ['', 'x', 'C123:abc', 'C123:1.2:3', '19:abc@thread.tacv2']) {
      expect(() => parseThreadKey(bad)).toThrow(expect.objectContaining({ code: 'slack_invalid_thread_key' }));
    }
  });

  it('knows channels, group conversations and direct messages by their id', () => {
    expect(conversationKindOfChannel('C1')).toBe('channel');
    expect(conversationKindOfChannel('G1')).toBe('group');
    expect(conversationKindOfChannel('D1')).toBe('personal');
  });
});

describe('payloads', () => {
  it('names what is wrong with a body Bolt could not route', () => {
    expect(describeSlackPayloadProblem([])).toBe('the body is not a JSON object or form');
    expect(describeSlackPayloadProblem({})).toBe('neither an event, an interaction nor a slash command');
    expect(describeSlackPayloadProblem({ type: 'event_callback', event_id: 'E1', event: {} })).toContain('event.type');
    expect(describeSlackPayloadProblem({ command: 'chaos', user_id: 'U1', channel_id: 'C1' })).toContain('command');
    expect(describeSlackPayloadProblem({ type: 'view_submission', user: {} })).toContain('user.id');
    expect(
      describeSlackPayloadProblem({ type: 'event_callback', event_id: 'E1', event: { type: 'app_mention' } }),
    ).toBeUndefined();
    expect(
      describeSlackPayloadProblem({ command: '/chaos', user_id: 'U1', channel_id: 'C1', text: '' }),
    ).toBeUndefined();
  });

  it('reads button values leniently (the chat service validates them)', () => {
    expect(parseButtonValue('{"contractId":"c","revision":2}')).toEqual({ contractId: 'c', revision: 2 });
    expect(parseButtonValue('nope')).toEqual({});
    expect(parseButtonValue(undefined)).toEqual({});
  });
});
