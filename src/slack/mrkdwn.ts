/**
 * Text in and out of Slack. Outgoing: Slack's mrkdwn treats `&`, `<` and `>` as control characters (`<@U1>` pings a
 * user, `<!channel>` the whole channel), so untrusted text is escaped before it goes into a block; the chat layer's
 * light markdown (`**bold**`, `[label](url)`) is turned into mrkdwn. Incoming: Slack wraps links, mentions and
 * channels in `<…>`; they are unwrapped so the command parser sees what the user typed.
 */

/** Escapes the three characters mrkdwn reserves. Text that was already escaped is escaped again (on purpose). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Clips to `max` characters (counting UTF-16 units, as Slack does), ending with an ellipsis when clipped. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  // Never leave half a surrogate pair or half an escape (`&am`) at the end.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z]{0,3}$/, '');
  return `${cut}…`;
}

const LINK = /\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]{1,1000})\)/g;

/**
 * The chat layer's messages (light markdown, possibly untrusted parts) as mrkdwn: escaped, `**bold**` → `*bold*`,
 * `[label](https://…)` → a Slack link. Code spans and bullets are the same in both.
 */
export function markdownToMrkdwn(text: string): string {
  const links: string[] = [];
  // Links are set aside behind private-use placeholders while the rest is escaped.
  const withPlaceholders = text.replace(/\uE000/g, '').replace(LINK, (_whole, label: string, url: string) => {
    links.push(`<${url.replace(/[<>|]/g, encodeURIComponent)}|${escapeMrkdwn(label).replace(/\|/g, '¦')}>`);
    return `\uE000${links.length - 1}\uE000`;
  });
  return escapeMrkdwn(withPlaceholders)
    .replace(/\*\*([^*\n]+)\*\*/g, '*$1*')
    .replace(/__([^_\n]+)__/g, '_$1_')
    .replace(/\uE000(\d+)\uE000/g, (_whole, index: string) => links[Number(index)] ?? '');
}

/**
 * A Slack message's text as the user typed it: `<https://x|x>` and `<https://x>` become the URL, `<mailto:a@b|a@b>`
 * the address, `<#C1|general>` `#general`, `<@U1>` stays a mention token (the caller removes the bot's own), and
 * special mentions (`<!here>`) become `@here`. HTML entities are left for the command parser, which decodes them.
 */
export function slackTextToPlain(text: string): string {
  return text.replace(/<([^<>\n]{1,2000})>/g, (whole, inner: string) => {
    if (inner.startsWith('@')) return whole;
    if (inner.startsWith('#')) {
      const [, label] = inner.split('|');
      return label ? `#${label}` : inner;
    }
    if (inner.startsWith('!')) {
      const [name, label] = inner.slice(1).split('|');
      return label ?? `@${(name ?? '').split('^')[0]}`;
    }
    const [target, label] = inner.split('|');
    if (target?.startsWith('mailto:')) return label ?? target.slice('mailto:'.length);
    return target ?? whole;
  });
}

/** Removes mentions of the bot (`<@UBOT>` or `<@UBOT|name>`); other users' mentions stay as written. */
export function stripBotMention(text: string, botUserId: string | undefined): string {
  const pattern = botUserId
    ? new RegExp(`<@${botUserId.replace(/[^A-Z0-9]/gi, '')}(?:\\|[^>]*)?>`, 'g')
    : // Without the bot's id (identity unknown yet) the leading mention of an app_mention is the bot's.
      /^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/;
  return text
    .replace(pattern, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}
