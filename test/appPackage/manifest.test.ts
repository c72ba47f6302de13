import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import AjvDraft04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { renderColorIcon, renderOutlineIcon } from '../../scripts/generateIcons.js';

const root = join(import.meta.dirname, '..', '..');
const appPackage = join(root, 'appPackage');
const manifestText = readFileSync(join(appPackage, 'manifest.json'), 'utf8');

const SAMPLE_ENV: Record<string, string> = {
  TEAMS_APP_ID: '0f6e7b0a-3c1d-4e5f-8a9b-1c2d3e4f5a6b',
  BOT_ID: '7d1c2b3a-4e5f-4a6b-9c8d-0e1f2a3b4c5d',
  BOT_DOMAIN: 'ca-chaos-dev.blackdesert-1234abcd.westeurope.azurecontainerapps.io',
  APP_NAME_SUFFIX: '-dev',
  APP_WEBSITE_URL: 'https://chaos.example.com',
  APP_PRIVACY_URL: 'https://chaos.example.com/privacy',
  APP_TERMS_URL: 'https://chaos.example.com/terms',
};

/** What the Teams toolkit does before zipping: replace ${{NAME}} from the environment file. */
function substitute(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([A-Z0-9_]+)\s*\}\}/g, (_match, name: string) => {
    const value = env[name];
    if (value === undefined) throw new Error(`no sample value for placeholder ${name}`);
    return value;
  });
}

// Both are CommonJS with `exports.default`; under NodeNext the default import is the module object.
const AjvDraft04 = AjvDraft04Module.default;
const addFormats = addFormatsModule.default;

const bundledSchemas = join(
  dirname(createRequire(import.meta.url).resolve('@microsoft/app-manifest/package.json')),
  'build',
  'json-schemas',
  'teams',
);

function compileSchemaFor(manifestVersion: string) {
  const schema = JSON.parse(
    readFileSync(join(bundledSchemas, `v${manifestVersion}`, 'MicrosoftTeams.schema.json'), 'utf8'),
  );
  const ajv = new AjvDraft04({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

type Manifest = {
  $schema: string;
  manifestVersion: string;
  icons: { color: string; outline: string };
  bots: { botId: string; scopes: string[]; commandLists: { scopes: string[]; commands: { title: string }[] }[] }[];
  validDomains: string[];
};

describe('Teams app manifest', () => {
  const manifest = JSON.parse(substitute(manifestText, SAMPLE_ENV)) as Manifest;

  it('uses only placeholders the toolkit can fill', () => {
    const placeholders = [...manifestText.matchAll(/\$\{\{([A-Z0-9_]+)\}\}/g)].map((m) => m[1]);
    expect(new Set(placeholders)).toEqual(new Set(Object.keys(SAMPLE_ENV)));
    const placeholder = (name: string) => `$\{{${name}}}`;
    expect(manifestText).toContain(`"id": "${placeholder('TEAMS_APP_ID')}"`);
    expect(manifestText).toContain(`"botId": "${placeholder('BOT_ID')}"`);
  });

  it('is on a current schema bundled with @microsoft/app-manifest, with the matching $schema URL', () => {
    const [major, minor] = manifest.manifestVersion.split('.').map(Number);
    expect(major).toBe(1);
    expect(minor).toBeGreaterThanOrEqual(17);
    expect(manifest.$schema).toBe(
      `https://developer.microsoft.com/en-us/json-schemas/teams/v${manifest.manifestVersion}/MicrosoftTeams.schema.json`,
    );
    expect(readdirSync(bundledSchemas)).toContain(`v${manifest.manifestVersion}`);
  });

  it('validates against the bundled JSON schema', () => {
    const validate = compileSchemaFor(manifest.manifestVersion);
    const valid = validate(manifest);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is rejected by the same validator when broken (the check can fail)', () => {
    const validate = compileSchemaFor(manifest.manifestVersion);
    const broken = structuredClone(manifest) as Manifest & { accentColor?: string };
    const firstBot = broken.bots[0];
    if (!firstBot) throw new Error('manifest has no bot');
    firstBot.botId = 'not-a-guid';
    broken.accentColor = 'purple';
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e: { instancePath: string }) => e.instancePath);
    expect(paths).toContain('/bots/0/botId');
    expect(paths).toContain('/accentColor');
    expect(() =>
      substitute(manifestText, { ...SAMPLE_ENV, BOT_ID: undefined } as unknown as Record<string, string>),
    ).toThrow(/BOT_ID/);
  });

  it('offers the bot in team, group chat and personal scopes with every command', () => {
    const [bot] = manifest.bots;
    expect(bot?.scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
    const titles = bot?.commandLists.flatMap((list) => list.commands.map((c) => c.title));
    expect(titles).toEqual(['assess', 'status', 'history', 'start', 'rollback', 'pause', 'promote', 'policy', 'help']);
    expect(manifest.validDomains).toEqual([SAMPLE_ENV.BOT_DOMAIN]);
  });

  it('accepts files in personal chat and asks for channel messages without a mention (RSC), for the bot app', () => {
    const full = manifest as Manifest & {
      bots: { supportsFiles?: boolean }[];
      authorization?: { permissions?: { resourceSpecific?: { name: string; type: string }[] } };
      webApplicationInfo?: { id: string; resource: string };
    };
    expect(full.bots[0]?.supportsFiles).toBe(true);
    expect(full.authorization?.permissions?.resourceSpecific).toEqual([
      { name: 'ChannelMessage.Read.Group', type: 'Application' },
    ]);
    expect(full.webApplicationInfo?.id).toBe(SAMPLE_ENV.BOT_ID);
    // The store asks apps that read channel messages to say how they use them.
    expect(manifestText).toMatch(/reads channel messages only to answer replies in its own contract threads/);
  });
});

describe('Teams app icons', () => {
  const read = (name: string) => PNG.sync.read(readFileSync(join(appPackage, name)));

  it('has a 192×192 opaque colour icon', () => {
    const color = read('color.png');
    expect([color.width, color.height]).toEqual([192, 192]);
    for (let i = 3; i < color.data.length; i += 4) expect(color.data[i]).toBe(255);
  });

  it('has a 32×32 outline icon that is white on transparent only', () => {
    const outline = read('outline.png');
    expect([outline.width, outline.height]).toEqual([32, 32]);
    let transparent = 0;
    let white = 0;
    for (let i = 0; i < outline.data.length; i += 4) {
      const [r, g, b, a] = [outline.data[i], outline.data[i + 1], outline.data[i + 2], outline.data[i + 3]];
      if (a === 0) transparent++;
      else {
        expect([r, g, b], `pixel ${i / 4}`).toEqual([255, 255, 255]);
        white++;
      }
    }
    // A real mark, not an empty or a filled square.
    expect(white).toBeGreaterThan(150);
    expect(transparent).toBeGreaterThan(300);
  });

  it('matches what scripts/generateIcons.ts draws (regenerate with npm run icons)', () => {
    expect(Buffer.compare(read('color.png').data, renderColorIcon().data)).toBe(0);
    expect(Buffer.compare(read('outline.png').data, renderOutlineIcon().data)).toBe(0);
  });

  it('names the icon files the manifest refers to', () => {
    const manifest = JSON.parse(manifestText) as Manifest;
    expect(manifest.icons).toEqual({ color: 'color.png', outline: 'outline.png' });
  });
});
