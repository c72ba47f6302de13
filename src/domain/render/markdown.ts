/**
 * Markdown contract, for pull-request comments, chat surfaces that render Markdown, and `chaos assess --markdown`.
 * Same content as the text renderer; untrusted text (descriptions, evidence) is escaped so it cannot add markup.
 */
import { formatNumber as n } from '../contractTerms.js';
import type { Contract } from '../model.js';
import {
  approvalLine,
  canaryEvidenceLine,
  describeEvidence,
  oneLine,
  plannedTimeLine,
  rampLine,
  satisfiedLabel,
} from './text.js';

const LEVEL_BADGE: Record<string, string> = { low: '🟢', medium: '🟡', high: '🟠', critical: '🔴' };

export function renderContractMarkdown(contract: Contract): string {
  const d = contract.deployment;
  const r = contract.risk;
  const out: string[] = [];
  const push = (...xs: string[]) => out.push(...xs);

  push(`## Deployment contract \`${esc(contract.id)}\` (revision ${contract.revision}, ${contract.state})`, '');
  push(
    `**${esc(d.serviceName)} ${esc(d.version)}** to **${esc(d.environment)}** (deployment \`${esc(d.deploymentId)}\`)  `,
  );
  push(
    `Content hash \`sha256:${contract.contentHash}\` · policy \`${esc(contract.policyVersion)}\` · created ${contract.createdAt}`,
    '',
  );

  push('### Risk assessment', '');
  push(
    `${LEVEL_BADGE[r.level] ?? ''} **${r.level.toUpperCase()}**, score **${r.score.toFixed(1)}/100**, confidence ${Math.round(r.confidence * 100)} %  `,
  );
  push(
    `Predicted impact: error rate +${n(r.predictedImpact.errorRateIncreasePercent)} %, p95 +${n(r.predictedImpact.p95IncreasePercent)} %, p99 +${n(r.predictedImpact.p99IncreasePercent)} %  `,
  );
  push(
    `First canary step: ${n(r.affected.canarySharePercent)} % of traffic, about ${n(r.affected.requestsPerMinuteInCanary)} requests/min, about ${n(r.affected.estimatedUsersInCanary)} users`,
    '',
  );
  if (r.findings.length === 0) {
    push('No risk factors detected.', '');
  } else {
    push('| factor | points | why |', '|---|---:|---|');
    for (const f of r.findings) {
      const evidence = f.evidence.slice(0, 3).map((e) => esc(describeEvidence(e)));
      const more = f.evidence.length > 3 ? [`+${f.evidence.length - 3} more`] : [];
      push(`| ${f.factor} | +${n(f.points)} | ${[esc(oneLine(f.summary, 200)), ...evidence, ...more].join('<br>')} |`);
    }
    push('');
  }

  push('### Guardrails (SLO protection)', '');
  push('| metric | threshold | window | minimum evidence | basis |', '|---|---|---|---|---|');
  for (const g of contract.terms.guardrails) {
    push(
      `| ${g.metric} | ${g.comparator} ${n(g.threshold)} ${g.unit} | ${g.windowSeconds} s | ${g.minimumEvidence.minRequests} requests, ${g.minimumEvidence.minIntervals} intervals | ${esc(g.basis)} |`,
    );
  }
  push('');

  const ramp = contract.terms.ramp;
  push('### Traffic ramp', '');
  push(`${esc(rampLine(ramp))}  `);
  for (const s of ramp.steps)
    push(`- ${n(s.trafficPercent)} %: at least ${s.minDurationSeconds} s and ${s.minRequests} requests`);
  push(
    `- analysis every ${ramp.analysisIntervalSeconds} s; roll back after ${ramp.consecutiveFailureLimit} consecutive or ${ramp.cumulativeFailureLimit} total failed intervals`,
  );
  const planned = plannedTimeLine(contract);
  if (planned) push(`- ${esc(planned)}`);
  push('');
  push(`**Canary evidence:** ${esc(canaryEvidenceLine(contract))}  `, esc(contract.canaryEvidence.note), '');

  push('### Validators (proof required)', '');
  push('| validator | requirement | status | detail |', '|---|---|---|---|');
  for (const v of contract.terms.validators) {
    push(`| ${v.kind} | ${v.requirement.replace('_', ' ')} | ${satisfiedLabel(v)} | ${esc(v.description)} |`);
  }
  push('', `**Approvals:** ${approvalLine(contract)}`, '');

  const plan = contract.rollbackPlan;
  push('### Rollback capability', '');
  push(
    `Possible: **${plan.possible ? 'yes' : 'no'}** · target ${plan.targetKind} · ${plan.steps.length} steps · about ${plan.totalSeconds} s · window ${plan.windowSeconds} s · data-loss risk **${plan.dataLossRisk}**`,
    '',
  );
  for (const s of plan.steps) {
    const after = s.dependsOn.length > 0 ? ` (after ${s.dependsOn.join(', ')})` : '';
    push(`${s.order}. ${esc(s.description)}${after}, ~${s.expectedDurationSeconds} s  `);
    push(`   ${s.command ? codeSpan(s.command) : '_manual step_'}: ${esc(s.validation)}`);
  }
  if (plan.steps.length > 0) push('');
  for (const reason of plan.reasons) push(`- ${esc(reason)}`);
  if (plan.reasons.length > 0) push('');

  if (contract.suggestions.length > 0) {
    push('### Suggested improvements', '');
    for (const s of contract.suggestions) push(`- ${s.factor ? `**${s.factor}**: ` : ''}${esc(s.text)}`);
    push('');
  }
  if (contract.amendments.length > 0) {
    push('### Amendments', '');
    for (const a of contract.amendments)
      push(`- revision ${a.revision} by ${esc(a.actor)}: ${a.diff.map(esc).join('; ')}`);
    push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * Escapes what could add markup mid-line (emphasis, code, links, HTML, table cells) in untrusted text; keeps it on one
 * line. Every escaped string is placed mid-line, so line-start markers (#, -, +) need no escaping.
 */
function esc(text: string): string {
  return oneLine(text, 400).replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

function codeSpan(text: string): string {
  const t = oneLine(text, 400);
  const fence = t.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${t}${fence === '``' ? ' ' : ''}${fence}`;
}
