/** Output of `chaos replay`: one JSON line per interval and a summary line, or a readable table and summary. */
import type { ReplayInterval, ReplaySummary } from './runner.js';

export function intervalJson(i: ReplayInterval): string {
  return `${JSON.stringify({
    index: i.index,
    timestamp: i.timestamp,
    verdict: i.verdict,
    phase: i.phase,
    weight: i.weight,
    action: i.action,
    reasons: i.reasons,
  })}\n`;
}

export function summaryJson(summary: ReplaySummary): string {
  return `${JSON.stringify({ summary })}\n`;
}

const COLUMNS = ['#', 'timestamp', 'rollout', 'verdict', 'action', 'phase', 'weight', 'reason'] as const;

export function tableHeader(): string {
  return `${row(COLUMNS)}\n`;
}

export function tableRow(i: ReplayInterval): string {
  const reason = i.verdict === 'PASS' ? '' : (i.reasons[0] ?? '');
  return `${row([
    String(i.index),
    i.timestamp.replace('.000Z', 'Z'),
    String(i.rollout),
    i.verdict,
    i.action,
    i.phase,
    `${i.weight} %`,
    reason.length > 110 ? `${reason.slice(0, 107)}...` : reason,
  ])}\n`;
}

const WIDTHS = [6, 21, 7, 7, 8, 12, 6];

function row(cells: readonly string[]): string {
  return cells
    .map((c, k) => (k < WIDTHS.length ? c.padEnd(WIDTHS[k] as number) : c))
    .join(' ')
    .trimEnd();
}

export function summaryText(s: ReplaySummary, intervalSeconds: number): string {
  const hours = (s.intervals * intervalSeconds) / 3600;
  const share = (n: number) => (s.intervals > 0 ? `${((100 * n) / s.intervals).toFixed(1)} %` : '-');
  return [
    '',
    `${s.intervals} intervals of ${intervalSeconds} s (${hours.toFixed(1)} h), ${s.rollouts} rollout(s): ${s.promotions} promoted, ${s.rollbacks} rolled back, ${s.asks} asked a person`,
    `verdicts: PASS ${s.pass} (${share(s.pass)}), HOLD ${s.hold} (${share(s.hold)}), FAIL ${s.fail} (${share(s.fail)})`,
    '',
  ].join('\n');
}
