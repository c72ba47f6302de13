/**
 * The seed contract card rendered by the official Adaptive Cards renderer in Chromium, with the Teams-like host
 * config of scripts/renderCardPicture.ts: what a user sees has the four buttons, every section and no `${`.
 * Skipped when /usr/bin/chromium is absent (CI images without a browser); browsers are never downloaded.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approvedCard,
  CardRenderer,
  CHROMIUM_PATH,
  requestErrorCard,
  seedContract,
} from '../../scripts/renderCardPicture.js';
import { renderContractCard } from '../../src/cards/index.js';

const hasChromium = existsSync(CHROMIUM_PATH);

describe.skipIf(!hasChromium)('cards rendered in Chromium by the adaptivecards renderer', () => {
  let renderer: CardRenderer;
  beforeAll(async () => {
    renderer = await CardRenderer.open();
  });
  afterAll(async () => {
    await renderer?.close();
  });

  it('shows the seed contract with its sections, the risk badge and Approve / Reject / Negotiate / Details', async () => {
    const contract = seedContract();
    const seen = await renderer.render(renderContractCard({ contract, requestedBy: 'Alex Chen' }));

    expect(seen.warnings).toEqual([]);
    expect(seen.buttons).toEqual(['Approve', 'Reject', 'Negotiate', 'Details']);
    expect(seen.text).not.toContain('${');
    expect(seen.text).toContain(`${contract.risk.level.toUpperCase()} RISK`);
    for (const heading of ['Why this risk', 'Guardrails', 'Proof required', 'Ramp', 'Rollback plan', 'Suggestions']) {
      expect(seen.text).toContain(heading);
    }
    expect(seen.text).toContain(`Revision ${contract.revision}`);
    expect(seen.clipped).toEqual([]);
    expect(seen.empty).toEqual([]);
    expect(seen.width).toBeGreaterThan(0);
  });

  it('opens the Reject form with a reason box and its own Reject button', async () => {
    const seen = await renderer.render(renderContractCard({ contract: seedContract() }), { clickButton: 'Reject' });
    expect(seen.text).toContain('Why reject this revision?');
    expect(seen.buttons).toEqual(['Approve', 'Reject', 'Negotiate', 'Details', 'Reject']);
  });

  it('replaces the buttons by Details once the revision is approved', async () => {
    const seen = await renderer.render(approvedCard(seedContract()));
    expect(seen.warnings).toEqual([]);
    expect(seen.buttons).toEqual(['Details']);
    expect(seen.text).toMatch(/Approved by \S/);
    expect(seen.text).not.toContain('${');
  });

  it('renders the request error card with every problem and no buttons', async () => {
    const seen = await renderer.render(requestErrorCard());
    expect(seen.warnings).toEqual([]);
    expect(seen.buttons).toEqual([]);
    expect(seen.text).toContain('version');
    expect(seen.text).toContain('changes[0].lines_changed');
    expect(seen.text).not.toContain('${');
  });
});
