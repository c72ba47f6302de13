/**
 * Parsing chat text into commands, the same on every surface. The @mention is already removed by the surface; a
 * leftover bot name (`chaos assess …`, `/chaos assess …`) is tolerated so commands work with or without it.
 */

export const COMMAND_NAMES = [
  'assess',
  'status',
  'history',
  'start',
  'rollback',
  'pause',
  'promote',
  'policy',
  'help',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type ChatCommand =
  | { kind: 'assess'; args: string }
  | { kind: 'status'; contractId?: string }
  | { kind: 'history'; service?: string }
  | { kind: 'start' | 'rollback' | 'pause' | 'promote'; contractId?: string }
  | { kind: 'policy' }
  | { kind: 'help' }
  /** Text that is not a command: a negotiation message when it was said in a contract's thread. */
  | { kind: 'text'; text: string; firstWord: string }
  | { kind: 'empty' };

const BOT_NAMES = /^(?:\/?chaos(?:[-_ ]?negotiator)?)(?:[\s:,]+|$)/i;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

export interface ParseOptions {
  /**
   * The text was said in a contract's thread (or a chat with a contract), where plain text is negotiation: a command
   * word counts only as exactly a command's syntax (the word alone, or with a contract id / service name and nothing
   * else; assess with something to assess) or after an explicit prefix (`chaos start`, `/chaos start`).
   */
  inContractThread?: boolean;
}

const CONTRACT_ID = /^ctr-[A-Za-z0-9._:-]{1,196}$/;

/** Turns the text after the mention into a command. Never throws. */
export function parseCommand(raw: string, options: ParseOptions = {}): ChatCommand {
  const normalised = normaliseText(raw);
  const text = normalised.replace(BOT_NAMES, '').trim();
  if (text === '') return { kind: 'empty' };
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text);
  const word = (match?.[1] ?? '').toLowerCase().replace(/[:!?.]+$/, '');
  const rest = (match?.[2] ?? '').trim();
  const explicit = text !== normalised.trim();
  if (options.inContractThread && !explicit && !isExactCommand(word, rest)) {
    return { kind: 'text', text, firstWord: word };
  }
  switch (word) {
    case 'assess':
      return { kind: 'assess', args: rest };
    case 'status':
      return rest ? { kind: 'status', contractId: firstToken(rest) } : { kind: 'status' };
    case 'history':
      return rest ? { kind: 'history', service: firstToken(rest) } : { kind: 'history' };
    case 'start':
    case 'rollback':
    case 'pause':
    case 'promote':
      return rest ? { kind: word, contractId: firstToken(rest) } : { kind: word };
    case 'policy':
      return { kind: 'policy' };
    case 'help':
    case '?':
      return { kind: 'help' };
    default:
      return { kind: 'text', text, firstWord: word };
  }
}

/** Inside a contract thread: is this exactly a command's syntax (so not a sentence that starts with a command word)? */
function isExactCommand(word: string, rest: string): boolean {
  const tokens = rest === '' ? [] : rest.split(/\s+/);
  switch (word) {
    case 'status':
    case 'start':
    case 'rollback':
    case 'pause':
    case 'promote':
      return tokens.length === 0 || (tokens.length === 1 && CONTRACT_ID.test(tokens[0] ?? ''));
    case 'history':
      return tokens.length <= 1 && (tokens.length === 0 || isPlausibleId(tokens[0] ?? ''));
    case 'policy':
    case 'help':
    case '?':
      return tokens.length === 0;
    case 'assess': {
      // The word alone (a JSON attachment, or the usage card), or something assess can read.
      const source = classifyAssessArgs(rest);
      return (
        source.kind === 'none' ||
        source.kind === 'json' ||
        source.kind === 'pull-request' ||
        (source.kind === 'key-value' && rest.includes('='))
      );
    }
    default:
      return false;
  }
}

/** Whether an argument looks like an id or service name (it ends up in a card and a database query). */
export function isPlausibleId(value: string): boolean {
  return ID.test(value);
}

function firstToken(rest: string): string {
  return rest.split(/\s+/)[0] ?? '';
}

/**
 * Chat text can arrive with HTML (Teams), entities and non-breaking spaces: reduce it to plain text, keeping line
 * breaks, so pasted JSON and key=value pairs parse the same as typed ones.
 */
export function normaliseText(raw: string): string {
  let text = raw;
  if (/<\/?(p|div|br|span|pre|code|at)\b/i.test(text)) {
    text = text
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/(p|div|pre)>/gi, '\n')
      .replace(/<[^>]+>/g, '');
  }
  return decodeEntities(text)
    .replace(/\u00a0/g, ' ')
    .replace(/[\u200b\u200e\u200f\ufeff]/g, '')
    .replace(/[“”]/g, '"')
    .replace(/[‘’]/g, "'")
    .trim();
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#\d{1,6}|#x[0-9a-f]{1,6}|[a-z]+|#39);/gi, (whole, name: string) => {
    const lower = name.toLowerCase();
    if (lower.startsWith('#x')) return safeCodePoint(Number.parseInt(lower.slice(2), 16)) ?? whole;
    if (lower.startsWith('#')) return safeCodePoint(Number.parseInt(lower.slice(1), 10)) ?? whole;
    return ENTITIES[lower] ?? whole;
  });
}

function safeCodePoint(code: number): string | undefined {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// What `assess` was given

export type AssessSource =
  | { kind: 'json'; text: string; from: 'message' | 'attachment'; name?: string }
  | { kind: 'pull-request'; url: string }
  | { kind: 'key-value'; text: string }
  | { kind: 'none' };

const PR_URL = /^<?(https?:\/\/[^\s<>]+\/pulls?\/\d+)\/?>?(?:\s|$)/i;

/** Decides what the arguments of `assess` are: pasted JSON (also inside ``` fences), a pull request link, or pairs. */
export function classifyAssessArgs(args: string): AssessSource {
  const text = args.trim();
  if (text === '') return { kind: 'none' };
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(text);
  if (fenced) return { kind: 'json', text: fenced[1] ?? '', from: 'message' };
  if (text.startsWith('{') || text.startsWith('[')) return { kind: 'json', text, from: 'message' };
  const pr = PR_URL.exec(text);
  if (pr?.[1]) return { kind: 'pull-request', url: pr[1] };
  return { kind: 'key-value', text };
}
