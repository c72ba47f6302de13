/**
 * Renders the product's Adaptive Cards the way a Teams user sees them and writes the pictures under docs/:
 * contract-card.png (the seed contract, the README picture), card-reject-open.png, contract-card-mobile.png,
 * card-details.png, card-negotiated.png, card-approved.png (the decision card) and card-error.png.
 *
 * The cards come from the real pipeline (parseDeploymentJson → assessRisk → draftContract → src/cards). They are
 * rendered by the official `adaptivecards` browser bundle, inlined into a local page (no CDN, no server), with the
 * Teams light host config, in Debian's Chromium driven by playwright-core. Every render also reports what a reviewer
 * looks for: renderer warnings, unexpanded `${`, buttons, clipped text, empty sections, lines shortened with "…".
 * The run fails (exit 1) only on renderer warnings or a `${`; the rest are printed as findings.
 *
 * `npm run docs:card -- --playground` instead starts the bot (embedded store in a temp directory) and the Microsoft
 * 365 Agents Playground, types two assess commands, clicks Approve and writes docs/playground-*.png.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`); never downloads a browser. See docs/visual-check.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { z } from 'zod';
import { type AdaptiveCardJson, renderContractCard, renderDecisionCard, renderErrorCard } from '../src/cards/index.js';
import { applyAmendment, draftContract } from '../src/domain/contract.js';
import { transition } from '../src/domain/contractState.js';
import { RequestValidationError } from '../src/domain/errors.js';
import type { Contract } from '../src/domain/model.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { parseDeploymentJson } from '../src/domain/request.js';
import { assessRisk } from '../src/domain/risk/engine.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SEED_PATH = join(ROOT, 'test/fixtures/deployment-example.json');
export const DOCS_DIR = join(ROOT, 'docs');

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The pictures are dated, not timed: a fixed clock keeps them identical from run to run. */
export const PICTURE_NOW = new Date('2026-11-24T09:30:00Z');

/** Teams desktop gives a `msteams.width: Full` card roughly this much room in a chat or channel reply. */
export const CARD_WIDTH_PX = 640;

const FONT_STACK =
  "'Segoe UI', Tahoma, Geneva, Verdana, 'Liberation Sans', 'DejaVu Sans', sans-serif, 'Noto Color Emoji'";

/**
 * Teams' light-theme text colours, the same in every container style: note that `good` (#92C353) and `warning`
 * (#F8D22A) are light, low-contrast colours on white; the pictures must show that, not a kinder palette.
 */
const TEAMS_FOREGROUND = {
  default: { default: '#252424', subtle: '#bf252424' },
  dark: { default: '#252424', subtle: '#bf252424' },
  light: { default: '#ffffff', subtle: '#fff3f2f1' },
  accent: { default: '#6264a7', subtle: '#8b8cc7' },
  good: { default: '#92c353', subtle: '#e592c353' },
  warning: { default: '#f8d22a', subtle: '#e5f8d22a' },
  attention: { default: '#c4314b', subtle: '#e5c4314b' },
};

function containerStyle(backgroundColor: string) {
  return { backgroundColor, foregroundColors: TEAMS_FOREGROUND };
}

const FONT_SIZES = { small: 12, default: 14, medium: 14, large: 18, extraLarge: 24 };
const FONT_WEIGHTS = { lighter: 200, default: 400, bolder: 600 };

/**
 * The Teams light host config (the values Teams and the Agents Playground use: spacing, 14 px text with `medium`
 * also 14 px, colours per container style), with fonts available on Linux after Segoe UI, and 1.5 features on.
 * Colours are #RRGGBB or #AARRGGBB, as the renderer expects.
 */
export const TEAMS_LIGHT_HOST_CONFIG = {
  supportsInteractivity: true,
  choiceSetInputValueSeparator: ',',
  fontTypes: {
    default: { fontFamily: FONT_STACK, fontSizes: FONT_SIZES, fontWeights: FONT_WEIGHTS },
    monospace: {
      fontFamily: "'Courier New', Courier, 'Liberation Mono', monospace",
      fontSizes: FONT_SIZES,
      fontWeights: FONT_WEIGHTS,
    },
  },
  spacing: { small: 8, default: 12, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  separator: { lineThickness: 1, lineColor: '#EEEEEE' },
  imageSizes: { small: 32, medium: 52, large: 100 },
  containerStyles: {
    default: containerStyle('#FFFFFF'),
    emphasis: containerStyle('#F9F8F7'),
    accent: containerStyle('#C7DEF9'),
    good: containerStyle('#CCFFCC'),
    warning: containerStyle('#FFE2B2'),
    attention: containerStyle('#FFC5B2'),
  },
  actions: {
    maxActions: 6,
    spacing: 'default',
    buttonSpacing: 8,
    showCard: { actionMode: 'inline', inlineTopMargin: 16, style: 'emphasis' },
    preExpandSingleShowCardAction: false,
    actionsOrientation: 'horizontal',
    actionAlignment: 'left',
  },
  adaptiveCard: { allowCustomStyle: false },
  factSet: {
    title: { weight: 'bolder', size: 'default', color: 'default', isSubtle: false, wrap: true, maxWidth: 150 },
    value: { weight: 'default', size: 'default', color: 'default', isSubtle: false, wrap: true },
    spacing: 16,
  },
  textBlock: { headingLevel: 2 },
} as const;

/** Teams' look for what the host config cannot express: message frame, buttons, inputs. */
const TEAMS_CSS = `
html, body { margin: 0; background: #F5F5F5; }
body { font-family: ${FONT_STACK}; color: #242424; -webkit-font-smoothing: antialiased; }
#stage { padding: 16px; display: inline-block; }
#frame { width: ${CARD_WIDTH_PX}px; background: #FFFFFF; border: 1px solid #E0E0E0; border-radius: 6px;
  box-shadow: 0 1px 2px rgba(0,0,0,0.12); overflow: hidden; }
.ac-pushButton { font-family: ${FONT_STACK}; font-size: 14px; font-weight: 600; min-height: 32px; padding: 0 12px;
  border-radius: 4px; background: #FFFFFF; color: #242424; border: 1px solid #D1D1D1; }
.ac-pushButton:hover { background: #F5F5F5; color: #242424; border-color: #C7C7C7; }
.ac-pushButton.style-positive { background: #5B5FC7; color: #FFFFFF; border-color: #5B5FC7; }
.ac-pushButton.style-destructive { background: #FFFFFF; color: #C50F1F; border-color: #D1D1D1; }
.ac-pushButton.expanded { background: #EBEBEB; color: #242424; border-color: #C7C7C7; }
.ac-pushButton.expandable:after, .ac-pushButton.expandable.expanded:after { content: none; }
/* Teams lets a row of buttons wrap (host config allowButtonsToWrap, unknown to adaptivecards 3.0.6). */
.ac-actionSet { flex-wrap: wrap; row-gap: 8px; }
.ac-input { font-family: ${FONT_STACK}; font-size: 14px; border: 1px solid #D1D1D1; border-radius: 4px; padding: 6px 8px; }
.ac-input.ac-textInput.ac-multiline { height: 64px; }
`;

/**
 * Runs in the page: parses and renders one card into #frame, and reports what it sees. Plain JavaScript because the
 * project compiles without DOM types; it talks to Node only through its JSON-able return value.
 */
const PAGE_SCRIPT = `
(() => {
  const AC = window.AdaptiveCards;
  const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // The subset of Markdown Teams renders in TextBlocks: bold, italic and links (CommonMark-like word boundaries).
  AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
    let html = escapeHtml(text);
    html = html.replace(/\\*\\*([^*\\n]+?)\\*\\*/g, '<strong>$1</strong>');
    html = html.replace(/(^|[^\\w*])\\*([^*\\s][^*\\n]*?)\\*(?![\\w*])/g, '$1<em>$2</em>');
    html = html.replace(/(^|[^\\w])_([^_\\s][^_\\n]*?)_(?!\\w)/g, '$1<em>$2</em>');
    html = html.replace(/\\[([^\\]]+)\\]\\((https?:[^)\\s]+)\\)/g, '<a class="ac-anchor" href="$2">$1</a>');
    result.outputHtml = html;
    result.didProcess = true;
  };
  window.renderCard = (payload, hostConfig, width) => {
    const frame = document.getElementById('frame');
    frame.innerHTML = '';
    frame.style.width = width + 'px';
    const card = new AC.AdaptiveCard();
    card.hostConfig = new AC.HostConfig(hostConfig);
    const executed = [];
    card.onExecuteAction = (action) => executed.push(action.verb || action.title || action.getJsonTypeName());
    const context = new AC.SerializationContext();
    card.parse(payload, context);
    const warnings = [];
    for (let i = 0; i < context.eventCount; i++) {
      const e = context.getEventAt(i);
      warnings.push(AC.ValidationEvent[e.event] + ': ' + e.message);
    }
    for (const e of card.validateProperties().validationEvents) {
      warnings.push(AC.ValidationEvent[e.event] + ': ' + e.message);
    }
    const element = card.render();
    if (!element) return { ok: false, warnings };
    frame.appendChild(element);
    window.__executed = executed;
    return { ok: true, warnings };
  };
  window.inspectCard = () => {
    const frame = document.getElementById('frame');
    const text = frame.innerText;
    const buttons = [...frame.querySelectorAll('button.ac-pushButton')]
      .filter((b) => b.offsetParent !== null)
      .map((b) => (b.getAttribute('aria-label') || b.innerText).trim());
    const clipped = [];
    for (const el of frame.querySelectorAll('.ac-textBlock, .ac-pushButton, .ac-pushButton > div')) {
      if (el.offsetParent === null) continue;
      if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 2) clipped.push(el.innerText.trim());
    }
    const empty = [];
    for (const el of frame.querySelectorAll('.ac-container, .ac-columnSet')) {
      if (el.offsetParent !== null && el.innerText.trim() === '' && !el.querySelector('input, textarea, img')) {
        empty.push(el.className);
      }
    }
    const shortened = text.split('\\n').filter((line) => line.includes('\u2026')).map((line) => line.trim());
    const box = frame.getBoundingClientRect();
    return { text, buttons, clipped, empty, shortened, width: Math.round(box.width), height: Math.round(box.height) };
  };
})();
`;

const require = createRequire(import.meta.url);

/** The self-contained test page: the adaptivecards bundle and its CSS are inlined (nothing is fetched). */
export function cardPageHtml(): string {
  const bundle = readFileSync(require.resolve('adaptivecards/dist/adaptivecards.min.js'), 'utf8');
  const css = readFileSync(require.resolve('adaptivecards/dist/adaptivecards.css'), 'utf8');
  // A literal "</script>" inside the bundle would end the inline script early.
  const safeBundle = bundle.replace(/<\/script/gi, '<\\/script');
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Chaos Negotiator card</title>',
    `<style>${css}\n${TEAMS_CSS}</style>`,
    `<script>${safeBundle}</script>`,
    `<script>${PAGE_SCRIPT}</script>`,
    '</head><body><div id="stage"><div id="frame"></div></div></body></html>',
  ].join('\n');
}

const renderResultSchema = z.object({ ok: z.boolean(), warnings: z.array(z.string()) });
const inspectionSchema = z.object({
  text: z.string(),
  buttons: z.array(z.string()),
  clipped: z.array(z.string()),
  empty: z.array(z.string()),
  shortened: z.array(z.string()),
  width: z.number(),
  height: z.number(),
});

/** What the rendered card looks like to a reviewer (and to the rendering test). */
export interface CardInspection {
  /** Parse and validation events of the adaptivecards renderer (unknown properties, unsupported elements, …). */
  warnings: string[];
  /** Visible text, in reading order. */
  text: string;
  /** Titles of the visible action buttons, left to right. */
  buttons: string[];
  /** Visible text blocks or button labels whose content does not fit (ellipsis or cut off). */
  clipped: string[];
  /** Visible containers or column sets without any text. */
  empty: string[];
  /** Lines the view model shortened with "…" (on purpose, like "… and 3 more", or not). */
  shortened: string[];
  width: number;
  height: number;
  renderMs: number;
}

export interface RenderOptions {
  /** Where to write a PNG of the card (the message frame with the card in it). */
  screenshotPath?: string;
  /** Click the visible button with this title before inspecting (e.g. open the Reject show-card). */
  clickButton?: string;
  /** Card width in CSS pixels; default CARD_WIDTH_PX (Teams desktop). Teams mobile leaves about 340. */
  widthPx?: number;
}

/** One Chromium page with the renderer loaded; render any number of cards in it. */
export class CardRenderer {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  static async open(executablePath = CHROMIUM_PATH): Promise<CardRenderer> {
    if (!existsSync(executablePath)) {
      throw new Error(`Chromium not found at ${executablePath}: install it with apt-get install -y chromium`);
    }
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({
        viewport: { width: CARD_WIDTH_PX + 64, height: 900 },
        deviceScaleFactor: 2,
      });
      // Nothing on the page may reach the network: the bundle is inline and the card has no images.
      await page.route('**/*', (route) => route.abort());
      await page.setContent(cardPageHtml(), { waitUntil: 'load' });
      return new CardRenderer(browser, page);
    } catch (error) {
      await browser.close();
      throw error;
    }
  }

  async render(card: AdaptiveCardJson, options: RenderOptions = {}): Promise<CardInspection> {
    const started = performance.now();
    const result = renderResultSchema.parse(
      await this.page.evaluate(
        `window.renderCard(${JSON.stringify(card)}, ${JSON.stringify(TEAMS_LIGHT_HOST_CONFIG)}, ${options.widthPx ?? CARD_WIDTH_PX})`,
      ),
    );
    if (!result.ok) throw new Error(`the adaptivecards renderer refused the card: ${result.warnings.join('; ')}`);
    if (options.clickButton !== undefined) {
      await this.page.locator('#frame button.ac-pushButton', { hasText: options.clickButton }).first().click();
    }
    await this.page.evaluate('document.fonts.ready');
    const seen = inspectionSchema.parse(await this.page.evaluate('window.inspectCard()'));
    if (options.screenshotPath !== undefined) {
      mkdirSync(dirname(options.screenshotPath), { recursive: true });
      await this.page.locator('#stage').screenshot({ path: options.screenshotPath });
    }
    return { ...seen, warnings: result.warnings, renderMs: Math.round(performance.now() - started) };
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The cards shown in the pictures

/** The seed request through the real pipeline, proposed as the bot proposes it when it posts the card. */
export function seedContract(now: Date = PICTURE_NOW): Contract {
  const request = parseDeploymentJson(readFileSync(SEED_PATH, 'utf8'));
  const drafted = draftContract(request, assessRisk(request), DEFAULT_POLICY, { now });
  return { ...drafted, state: transition(drafted.state, 'propose') };
}

const REQUESTER = 'Alex Chen';
const APPROVERS = ['Priya Natarajan', 'Sam Okafor', 'Mei Tanaka'];

/** The decision card after the required approvals came in. */
export function approvedCard(contract: Contract, now: Date = PICTURE_NOW): AdaptiveCardJson {
  const approved: Contract = { ...contract, state: transition(contract.state, 'approve') };
  const names = APPROVERS.slice(0, Math.max(1, contract.terms.approvalsRequired));
  const approvals = names.map((actorName, i) => ({
    actorName,
    at: new Date(now.getTime() + (i + 1) * 4 * 60_000).toISOString(),
  }));
  return renderDecisionCard({
    contract: approved,
    approvals,
    decision: { outcome: 'approved', by: names, at: approvals.at(-1)?.at ?? now.toISOString() },
    requestedBy: REQUESTER,
  });
}

/**
 * The error card for a request the bot cannot read: the seed with a missing version, a negative line count and an
 * unknown change type, validated by the real parser. Titles follow src/chat/service.ts (requestErrorCard).
 */
export function requestErrorCard(): AdaptiveCardJson {
  const seed = JSON.parse(readFileSync(SEED_PATH, 'utf8')) as Record<string, unknown>;
  const { version: _dropped, ...withoutVersion } = seed;
  const changes = (seed.changes as Record<string, unknown>[]).map((c, i) =>
    i === 0 ? { ...c, lines_changed: -120 } : i === 1 ? { ...c, change_type: 'rewrite' } : c,
  );
  try {
    parseDeploymentJson(JSON.stringify({ ...withoutVersion, changes }));
  } catch (error) {
    if (!(error instanceof RequestValidationError)) throw error;
    return renderErrorCard({
      title: 'I could not read that deployment request',
      summary: `The attached JSON has ${error.issues.length === 1 ? 'a problem' : `${error.issues.length} problems`}:`,
      problems: error.issues.map((i) => ({ path: i.path, message: `${i.message} (${i.rule})` })),
      hint: 'Type `help` for the keys and formats I understand.',
    });
  }
  throw new Error('the broken seed request was accepted; the error card has nothing to show');
}

/**
 * Revision 2 of the seed contract after a negotiation (a longer bake, stricter than the floor) with one approval in,
 * as re-shown to someone who clicked a button on revision 1 (the notice is the one src/chat/service.ts sends).
 */
export function negotiatedCard(contract: Contract, now: Date = PICTURE_NOW): AdaptiveCardJson {
  const amendment = { kind: 'set_bake_time' as const, seconds: 7200, justification: 'payments peak at lunch' };
  const result = applyAmendment(contract, amendment, 'Sam Okafor', DEFAULT_POLICY);
  if (!result.ok) throw new Error(`amendment refused: ${JSON.stringify(result.decision)}`);
  return renderContractCard({
    contract: result.contract,
    approvals: [{ actorName: APPROVERS[0] ?? 'approver', at: new Date(now.getTime() + 10 * 60_000).toISOString() }],
    requestedBy: REQUESTER,
    notice: `You clicked revision ${contract.revision}, but revision ${result.contract.revision} is current: nothing was recorded. Here is the current card.`,
  });
}

export interface Picture {
  file: string;
  card: AdaptiveCardJson;
  clickButton?: string;
  widthPx?: number;
}

/** Teams on a phone leaves a card about this wide. */
export const MOBILE_WIDTH_PX = 340;

export function pictures(now: Date = PICTURE_NOW): Picture[] {
  const contract = seedContract(now);
  return [
    { file: 'contract-card.png', card: renderContractCard({ contract, requestedBy: REQUESTER }) },
    {
      file: 'card-reject-open.png',
      card: renderContractCard({ contract, requestedBy: REQUESTER }),
      clickButton: 'Reject',
    },
    {
      file: 'contract-card-mobile.png',
      card: renderContractCard({ contract, requestedBy: REQUESTER }),
      widthPx: MOBILE_WIDTH_PX,
    },
    { file: 'card-details.png', card: renderContractCard({ contract, requestedBy: REQUESTER, detailed: true }) },
    { file: 'card-negotiated.png', card: negotiatedCard(contract, now) },
    { file: 'card-approved.png', card: approvedCard(contract, now) },
    { file: 'card-error.png', card: requestErrorCard() },
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  const renderer = await CardRenderer.open();
  const launchedMs = Math.round(performance.now() - started);
  // A card the renderer rejects in part, or one showing `${`, is broken: the run fails. Clipped text, empty
  // sections and shortened lines are findings to look at (a phone-width card clips its buttons, for instance).
  let broken = 0;
  let findings = 0;
  try {
    for (const picture of pictures()) {
      const path = join(DOCS_DIR, picture.file);
      const seen = await renderer.render(picture.card, {
        screenshotPath: path,
        ...(picture.clickButton ? { clickButton: picture.clickButton } : {}),
        ...(picture.widthPx ? { widthPx: picture.widthPx } : {}),
      });
      const unresolved = seen.text.includes('${');
      broken += seen.warnings.length + (unresolved ? 1 : 0);
      findings += seen.clipped.length + seen.empty.length;
      console.log(`${relative(ROOT, path)}  ${seen.width}×${seen.height} css px  ${seen.renderMs} ms`);
      console.log(`  buttons: ${seen.buttons.join(' | ') || '(none)'}`);
      if (unresolved) console.log('  UNEXPANDED ${ in the rendered text');
      for (const w of seen.warnings) console.log(`  renderer: ${w}`);
      for (const c of seen.clipped) console.log(`  clipped: ${c}`);
      for (const e of seen.empty) console.log(`  empty: ${e}`);
      for (const line of seen.shortened) console.log(`  shortened (…): ${line}`);
    }
  } finally {
    await renderer.close();
  }
  console.log(`Chromium launch + page ${launchedMs} ms; total ${Math.round(performance.now() - started)} ms`);
  if (findings > 0) console.log(`${findings} finding(s) (clipped text, empty sections) reported above`);
  if (broken > 0) {
    console.log(`${broken} broken rendering(s) reported above`);
    process.exitCode = 1;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The card in a Teams-like UI: the bot and the Microsoft 365 Agents Playground, driven by headless Chromium

export const PLAYGROUND_COMMAND =
  'assess service=checkout version=2.4.0 files=db/migrations/001.sql lines=120 description="add orders index"';
export const PLAYGROUND_LOW_RISK_COMMAND =
  'assess service=docs-site version=1.4.1 files=README.md lines=4 description="fix a typo" rollback=true';
const PLAYGROUND_URL = 'http://localhost:56150/';
/** Top-level cards only (a show-card nests another .ac-adaptiveCard). */
const TOP_CARD = '.ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)';

/** Sends one assess command, waits for its card, clicks Approve, waits for the answer; screenshots both states. */
async function assessAndApprove(page: Page, command: string, cardPng: string, afterPng: string, at: () => string) {
  const cards = page.locator(TOP_CARD);
  const before = await cards.count();
  const editor = page.locator('[data-lexical-editor="true"]');
  await editor.click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
  await waitUntil(`a card answering "${command}"`, 60_000, async () => (await cards.count()) > before);
  const card = cards.last();
  const approve = card.locator('button', { hasText: 'Approve' });
  await approve.waitFor({ timeout: 10_000 });
  await card.scrollIntoViewIfNeeded();
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(DOCS_DIR, cardPng) });
  console.log(`"${command}" → card (${at()}); docs/${cardPng}`);
  console.log(`  card text: ${await lastCardText(page)}`);

  const pageBefore = await bodyText(page);
  await approve.click();
  await waitUntil('an answer to Approve', 30_000, async () => (await bodyText(page)) !== pageBefore).catch(
    (error: unknown) => console.log(`  ${error instanceof Error ? error.message : String(error)}`),
  );
  await page.waitForTimeout(1500);
  await page.locator(TOP_CARD).last().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(DOCS_DIR, afterPng) });
  console.log(`  Approve clicked → (${at()}); docs/${afterPng}`);
  console.log(`  last card text: ${await lastCardText(page)}`);
  const added = newLines(pageBefore, await bodyText(page));
  if (added.length > 0) console.log(`  new on the page: ${added.join(' | ')}`);
}

async function bodyText(page: Page): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the laid-out, visible text is the point here.
  return page.locator('body').innerText();
}

/** Lines of the page that were not there before (notices, toasts, log entries). */
function newLines(before: string, after: string): string[] {
  const old = new Set(before.split('\n').map((l) => l.trim()));
  return after
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !old.has(l))
    .slice(0, 20);
}

interface Started {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: boolean;
}

/** Starts a process in its own process group, so that stopping it also stops whatever it spawned. */
function start(name: string, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const started: Started = { name, child, output: [], exited: false };
  const keep = (chunk: Buffer) => {
    started.output.push(chunk.toString('utf8'));
    if (started.output.length > 400) started.output.splice(0, 100);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', () => {
    started.exited = true;
  });
  return started;
}

/** Stops a started process and everything in its process group: SIGTERM, then SIGKILL after 8 s. */
async function stop(p: Started): Promise<void> {
  const pid = p.child.pid;
  if (pid === undefined) return;
  const signal = (name: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pid, name);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  if (!signal('SIGTERM')) return;
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline) {
    if (!signal(0)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  signal('SIGKILL');
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, proc?: Started) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (proc?.exited) throw new Error(`${proc.name} exited while waiting for ${what}:\n${tail(proc)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${proc ? `:\n${tail(proc)}` : ''}`);
}

function tail(p: Started): string {
  return p.output.join('').slice(-3000);
}

/** The last card's visible text as laid out (what a user reads), on one line. */
async function lastCardText(page: Page): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the laid-out, visible text is the point here.
  const text = await page.locator(TOP_CARD).last().innerText();
  return text.replace(/\s+/g, ' ').trim();
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Starts the bot (embedded store in a temp directory, port 3978) and the Agents Playground (its working directory is
 * the temp directory too, so its devTools/ log stays out of the repo), types the assess command, screenshots the
 * card, clicks Approve and screenshots the result. Prints what the UI showed; stops both processes in any case.
 */
async function playground(): Promise<void> {
  const port = 3978;
  const endpoint = `http://127.0.0.1:${port}/api/messages`;
  if (await answers(`http://127.0.0.1:${port}/healthz`)) throw new Error(`something already listens on port ${port}`);
  const work = mkdtempSync(join(tmpdir(), 'chaos-playground-'));
  const processes: Started[] = [];
  let browser: Browser | undefined;
  const t0 = performance.now();
  const at = () => `${Math.round(performance.now() - t0)} ms`;
  try {
    const bot = start('bot', process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts')], ROOT, {
      ...process.env,
      PORT: String(port),
      CHAOS_DATA_DIR: join(work, 'data'),
    });
    processes.push(bot);
    await waitUntil('the bot', 90_000, () => answers(`http://127.0.0.1:${port}/healthz`), bot);
    console.log(`bot answers on ${endpoint} (${at()})`);

    const tool = start(
      'playground',
      join(ROOT, 'node_modules/.bin/agentsplayground'),
      ['-e', endpoint, '-c', 'msteams', '--disable-telemetry'],
      work,
      { ...process.env, TEAMSAPPTESTER_BROWSER: 'none' },
    );
    processes.push(tool);
    await waitUntil('the playground', 30_000, () => tail(tool).includes('Listening on'), tool);
    console.log(`playground listens on ${PLAYGROUND_URL} (${at()})`);

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1500 } });
    const blocked = new Set<string>();
    // Only the two local servers: the playground's UI asks a CDN for Segoe UI, which must not (and cannot) load.
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === 'localhost' || url.hostname === '127.0.0.1') return route.continue();
      blocked.add(url.origin);
      return route.abort();
    });
    await page.goto(PLAYGROUND_URL, { waitUntil: 'load' });
    await page.locator('[data-lexical-editor="true"]').waitFor({ timeout: 30_000 });
    // The brief's example (high risk: its author may not approve it alone), then a low-risk change the author may.
    await assessAndApprove(page, PLAYGROUND_COMMAND, 'playground-assess.png', 'playground-approved.png', at);
    await assessAndApprove(
      page,
      PLAYGROUND_LOW_RISK_COMMAND,
      'playground-low-risk.png',
      'playground-low-risk-approved.png',
      at,
    );
    if (blocked.size > 0) console.log(`  blocked (not local): ${[...blocked].join(', ')}`);
  } finally {
    await browser?.close();
    for (const p of processes.reverse()) await stop(p);
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  (process.argv.includes('--playground') ? playground() : main()).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
