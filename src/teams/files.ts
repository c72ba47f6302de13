/**
 * Files in Teams messages. In a personal chat (with `supportsFiles: true` in the manifest) Teams stores an uploaded
 * file in the sender's OneDrive and sends the bot an attachment of type
 * `application/vnd.microsoft.teams.file.download.info` whose content carries a short-lived, pre-authorised
 * `downloadUrl`: it is fetched with a plain GET and no bearer token (the bot's token is for the Bot Connector and is
 * never sent to SharePoint), capped in size and time. In channels and group chats Teams does not hand files to bots:
 * the message only carries an HTML reference or a SharePoint link, and reading either needs Microsoft Graph
 * (Files.Read.All or ChannelMessage.Read.All with admin consent), which this bot does not use. Those get a clear
 * answer saying what to do instead.
 */
import type { Activity } from 'botbuilder';
import type { ChatCard, IncomingAttachment } from '../chat/port.js';

export const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';
/** The same cap as JSON pasted inline. */
export const MAX_FILE_BYTES = 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 10_000;

export interface FileProblem {
  path: string;
  message: string;
}

export interface TeamsFiles {
  /** Files read, as JSON text the chat service treats like an attached JSON. */
  attachments: IncomingAttachment[];
  /** Files that could not be read, each naming the file and why. */
  problems: FileProblem[];
}

export interface FileReadOptions {
  maxBytes?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface DownloadInfo {
  downloadUrl?: unknown;
  fileType?: unknown;
  uniqueId?: unknown;
}

const SHAREPOINT_LINK = /https:\/\/[^\s"'<>]*(?:sharepoint\.com|onedrive\.live\.com|1drv\.ms)[^\s"'<>]*/i;
const HTML_FILE_REFERENCE = /<attachment\s+id=/i;

export const CHANNEL_FILE_PROBLEM =
  'Teams does not give bots the files or SharePoint links shared in a channel or group chat; reading them needs Microsoft Graph permissions this bot does not use. Send the .json file to me in a personal chat, or paste the JSON into the message (assess {…}).';

/** Reads the files of a message: downloads personal-chat uploads, explains what cannot be read elsewhere. */
export async function readTeamsFiles(activity: Partial<Activity>, options: FileReadOptions = {}): Promise<TeamsFiles> {
  const out: TeamsFiles = { attachments: [], problems: [] };
  let sharedElsewhere: string | undefined;
  for (const attachment of activity.attachments ?? []) {
    const contentType = String(attachment.contentType ?? '');
    const name = typeof attachment.name === 'string' && attachment.name !== '' ? attachment.name : 'the file';
    if (contentType === FILE_DOWNLOAD_INFO) {
      const result = await downloadFile(name, (attachment.content ?? {}) as DownloadInfo, options);
      if ('problem' in result) out.problems.push({ path: name, message: result.problem });
      else out.attachments.push({ name, contentType: 'application/json', text: result.text });
      continue;
    }
    if (contentType === 'text/html' && HTML_FILE_REFERENCE.test(String(attachment.content ?? ''))) {
      sharedElsewhere = name === 'the file' ? 'a shared file' : name;
    } else if (attachment.contentUrl && SHAREPOINT_LINK.test(attachment.contentUrl)) {
      sharedElsewhere = name === 'the file' ? attachment.contentUrl : name;
    }
  }
  const link = SHAREPOINT_LINK.exec(activity.text ?? '')?.[0];
  if (!sharedElsewhere && link) sharedElsewhere = link;
  if (sharedElsewhere && out.attachments.length === 0) {
    out.problems.push({ path: shorten(sharedElsewhere), message: CHANNEL_FILE_PROBLEM });
  }
  return out;
}

async function downloadFile(
  name: string,
  info: DownloadInfo,
  options: FileReadOptions,
): Promise<{ text: string } | { problem: string }> {
  const fileType = typeof info.fileType === 'string' ? info.fileType.toLowerCase() : '';
  if (fileType !== 'json' && !/\.json$/i.test(name)) {
    return {
      problem: `is a ${fileType ? `.${fileType}` : 'non-JSON'} file; I read deployment requests from .json files`,
    };
  }
  const url = typeof info.downloadUrl === 'string' ? safeDownloadUrl(info.downloadUrl) : undefined;
  if (!url) return { problem: 'came without a usable download link from Teams; send it again' };
  const maxBytes = options.maxBytes ?? MAX_FILE_BYTES;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      redirect: 'follow',
      signal: AbortSignal.timeout(options.timeoutMs ?? DOWNLOAD_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    return {
      problem: timedOut ? 'could not be downloaded in time; send it again' : 'could not be downloaded; send it again',
    };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return {
      problem: `could not be downloaded (HTTP ${response.status}${response.status === 401 || response.status === 403 ? ': the download link has expired' : ''}); send it again`,
    };
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    return { problem: tooLarge(declared, maxBytes) };
  }
  const bytes = await readCapped(response, maxBytes);
  if (bytes === undefined) return { problem: tooLarge(undefined, maxBytes) };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return { problem: 'is not UTF-8 text; save the JSON as UTF-8 and send it again' };
  }
  return { text };
}

/** https only, except plain http to this machine (local fakes). Nothing else is fetched. */
function safeDownloadUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.username || url.password) return undefined;
  if (url.protocol === 'https:') return url.toString();
  const loopback =
    url.hostname === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname) || url.hostname === '[::1]';
  return url.protocol === 'http:' && loopback ? url.toString() : undefined;
}

/** The body, or undefined as soon as it exceeds `maxBytes` (the rest is not read). */
async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * The text to hand to the chat service: "assess" for a file sent without words; undefined when the message asks only
 * for files that could not be read (the caller answers with `fileProblemCard`); else the text as it is.
 */
export function textWithFiles(text: string, files: TeamsFiles): string | undefined {
  const words = text.replace(new RegExp(SHAREPOINT_LINK.source, 'gi'), '').trim();
  const onlyFiles = words === '' || /^assess$/i.test(words);
  if (files.attachments.length > 0) return words === '' ? 'assess' : text;
  if (files.problems.length > 0 && onlyFiles) return undefined;
  return text;
}

/** The same error card as a deployment JSON that cannot be read. */
export function fileProblemCard(problems: FileProblem[]): ChatCard {
  return {
    kind: 'error',
    input: {
      title: 'I could not read that deployment request',
      summary: `The attached file has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:`,
      problems,
      hint: 'Type “help” for the keys and formats I understand.',
    },
  };
}

function tooLarge(size: number | undefined, maxBytes: number): string {
  const limit = `${Math.round(maxBytes / 1024)} KiB`;
  return size === undefined
    ? `is larger than ${limit}, the limit for a deployment request`
    : `is ${(size / 1024 / 1024).toFixed(1)} MiB; the limit for a deployment request is ${limit}`;
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
