/**
 * Deployment requests sent as files in Teams, through the real stack (HTTP → CloudAdapter → teams-ai → ChatService)
 * with activities shaped as Teams sends them: in personal chat an attachment of type
 * application/vnd.microsoft.teams.file.download.info whose pre-authorised downloadUrl is fetched (here from a file
 * server on 127.0.0.1) with no bearer token and a size cap; in a channel only an HTML reference to the file, which
 * cannot be read without Microsoft Graph.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPersistentStore } from '../../src/persistence/index.js';
import {
  type ConversationSpec,
  cardOf,
  type FakeConnector,
  messageActivity,
  sendToBot,
  startFakeConnector,
} from '../harness/fakeConnector.js';
import { DEVELOPER, startTestBot, type TestBot } from './support.js';

const DEPLOYMENT = readFileSync(new URL('../fixtures/deployment-example.json', import.meta.url), 'utf8');

let connector: FakeConnector;
let bot: TestBot;
let files: Server;
let filesUrl: string;
const downloads: { path: string; headers: IncomingHttpHeaders }[] = [];
let personalSeq = 0;

function personal(): ConversationSpec {
  personalSeq += 1;
  return { id: `a:personal-files-${personalSeq}`, type: 'personal' };
}

/** The attachment Teams sends in personal chat for an uploaded file. */
function uploadedFile(name: string, path: string, fileType = 'json') {
  return {
    contentType: 'application/vnd.microsoft.teams.file.download.info',
    contentUrl: `https://contoso-my.sharepoint.com/personal/dev_contoso_com/Documents/Microsoft Teams Chat Files/${name}`,
    name,
    content: {
      downloadUrl: `${filesUrl}${path}`,
      uniqueId: '1150D938-8870-4044-9F2C-5BBDEBA70C8C',
      fileType,
    },
  };
}

async function send(conversation: ConversationSpec, text: string, attachments: unknown[]) {
  const activity = messageActivity(connector.serviceUrl, conversation, DEVELOPER, text, { attachments });
  const response = await sendToBot(bot.url, activity);
  expect(response.status).toBe(200);
  const reply = await connector.waitFor((a) => a.method === 'POST' && a.activityId === activity.id);
  return JSON.stringify(cardOf(reply.body) ?? reply.body.text);
}

beforeAll(async () => {
  files = createServer((req, res) => {
    downloads.push({ path: req.url ?? '', headers: req.headers });
    if (req.url === '/deploy.json')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(DEPLOYMENT);
    if (req.url === '/broken.json') return void res.writeHead(200).end('{ "service_name": "checkout", ');
    if (req.url === '/expired') return void res.writeHead(403).end('expired');
    if (req.url === '/huge.json') {
      // No content-length: the cap must hold while streaming.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < 40; i++) res.write(chunk);
      return void res.end();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  connector = await startFakeConnector();
  bot = await startTestBot(await openPersistentStore({ dataDir: 'memory://' }));
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
  await new Promise<void>((resolve) => files?.close(() => resolve()));
});

describe('deployment files in Teams', () => {
  it('assesses a JSON file sent in personal chat without any words, fetched without the bot token', async () => {
    const reply = await send(personal(), '', [uploadedFile('deploy.json', '/deploy.json')]);
    expect(reply).toContain('Deployment contract ctr-');
    expect(reply).toContain('payment-service');
    const download = downloads.find((d) => d.path === '/deploy.json');
    expect(download?.headers.authorization).toBeUndefined();
  });

  it('gives a broken file the same error as broken inline JSON', async () => {
    const fromFile = await send(personal(), 'assess', [uploadedFile('broken.json', '/broken.json')]);
    const inline = await send(personal(), 'assess { "service_name": "checkout", ', []);
    expect(fromFile).toContain('I could not read that deployment request');
    expect(fromFile).toContain('The attached JSON has');
    expect(inline).toContain('I could not read that deployment request');
  });

  it('refuses a file over the size cap, an expired link and a file that is not JSON, naming the file', async () => {
    const huge = await send(personal(), '', [uploadedFile('huge.json', '/huge.json')]);
    expect(huge).toContain('I could not read that deployment request');
    expect(huge).toMatch(/huge\.json.*larger than 1024 KiB/);
    const expired = await send(personal(), '', [uploadedFile('deploy.json', '/expired')]);
    expect(expired).toMatch(/HTTP 403: the download link has expired/);
    const docx = await send(personal(), '', [uploadedFile('plan.docx', '/plan.docx', 'docx')]);
    expect(docx).toMatch(/plan\.docx.*is a \.docx file; I read deployment requests from \.json files/);
    expect(downloads.some((d) => d.path === '/plan.docx')).toBe(false);
  });

  it('says plainly that a file shared in a channel cannot be read, and what to do instead', async () => {
    const channel: ConversationSpec = { id: '19:files@thread.tacv2', type: 'channel' };
    const reply = await send(channel, 'assess', [
      {
        contentType: 'text/html',
        content: '<p><at>chaos</at> assess</p><attachment id="8a7b6c5d-1111-2222-3333-444455556666"></attachment>',
      },
    ]);
    expect(reply).toContain('Teams does not give bots the files or SharePoint links shared in a channel');
    expect(reply).toContain('personal chat');
    const link = await send(
      channel,
      'assess https://contoso.sharepoint.com/sites/eng/Shared%20Documents/deploy.json',
      [],
    );
    expect(link).toContain('needs Microsoft Graph permissions this bot does not use');
  });
});
