/**
 * Streaming batch assessment (`chaos assess --batch FILE.ndjson | -`): reads one deployment request per line with
 * node:readline, assesses each as it arrives and writes one result per line, so memory stays flat however long the
 * input is (only the current line and its contract are held). Invalid lines are reported on the error sink with their
 * line number and the field that is wrong, then skipped; blank lines are ignored.
 *
 * Output formats:
 *   summary-json  one compact JSON object per request: line, ids, score, level, confidence, factors, guardrails;
 *   full-json     one whole contract per line (compact JSON);
 *   text          one aligned line per request;
 *   full-text / markdown  the rendered contract of each request, separated by a blank line.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { assessDeployment } from '../../domain/contract.js';
import { RequestValidationError } from '../../domain/errors.js';
import type { Contract, GuardrailMetric, RiskFactor, RiskLevel } from '../../domain/model.js';
import type { Policy } from '../../domain/policy.js';
import { renderContractMarkdown } from '../../domain/render/markdown.js';
import { renderContractText } from '../../domain/render/text.js';
import { parseDeploymentJson } from '../../domain/request.js';

export type BatchFormat = 'summary-json' | 'full-json' | 'text' | 'full-text' | 'markdown';

export interface BatchOptions {
  policy: Policy;
  now(): Date;
  format: BatchFormat;
  /** Names the input in error lines: the file path as given, or `stdin`. */
  source: string;
}

export interface BatchSink {
  out(text: string): void;
  err(text: string): void;
  /** Resolves when `out` can take more (backpressure); called after each result when present. */
  drain?(): Promise<void>;
}

export interface BatchSummary {
  /** Lines read, blank ones included. */
  lines: number;
  assessed: number;
  invalid: number;
  blank: number;
}

/** The compact per-request result of the summary-json format. */
export interface BatchResultLine {
  line: number;
  deploymentId: string;
  contractId: string;
  score: number;
  level: RiskLevel;
  confidence: number;
  factors: { factor: RiskFactor; points: number }[];
  guardrails: Partial<Record<GuardrailMetric, { threshold: number; unit: '%' | 'ms'; windowSeconds: number }>>;
}

export function batchResultLine(line: number, contract: Contract): BatchResultLine {
  const guardrails: BatchResultLine['guardrails'] = {};
  for (const g of contract.terms.guardrails) {
    guardrails[g.metric] = { threshold: g.threshold, unit: g.unit, windowSeconds: g.windowSeconds };
  }
  return {
    line,
    deploymentId: contract.deployment.deploymentId,
    contractId: contract.id,
    score: contract.risk.score,
    level: contract.risk.level,
    confidence: contract.risk.confidence,
    factors: contract.risk.findings.map((f) => ({ factor: f.factor, points: f.points })),
    guardrails,
  };
}

/** `line 12  deploy-42  61.5 high      conf 0.80  database_migration 32, caching 12` */
export function formatBatchTextLine(result: BatchResultLine): string {
  const factors = result.factors.map((f) => `${f.factor} ${f.points}`).join(', ') || 'no factors';
  return `line ${result.line}\t${result.deploymentId}\t${result.score.toFixed(1)} ${result.level.padEnd(8)}\tconf ${result.confidence.toFixed(2)}\t${factors}\n`;
}

/** Reads NDJSON requests from `input` line by line and writes one result per valid line to the sink, in input order. */
export async function assessNdjson(input: Readable, options: BatchOptions, sink: BatchSink): Promise<BatchSummary> {
  const summary: BatchSummary = { lines: 0, assessed: 0, invalid: 0, blank: 0 };
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of lines) {
    summary.lines++;
    if (text.trim() === '') {
      summary.blank++;
      continue;
    }
    let contract: Contract;
    try {
      contract = assessDeployment(parseDeploymentJson(text), options.policy, { now: options.now() });
    } catch (error) {
      if (!(error instanceof RequestValidationError)) throw error;
      summary.invalid++;
      sink.err(`error: ${options.source} line ${summary.lines}: ${lineReason(error)}\n`);
      continue;
    }
    sink.out(formatResult(summary.lines, contract, options.format, summary.assessed === 0));
    summary.assessed++;
    if (sink.drain) await sink.drain();
  }
  return summary;
}

function formatResult(line: number, contract: Contract, format: BatchFormat, first: boolean): string {
  switch (format) {
    case 'summary-json':
      return `${JSON.stringify(batchResultLine(line, contract))}\n`;
    case 'full-json':
      return `${JSON.stringify(contract)}\n`;
    case 'text':
      return formatBatchTextLine(batchResultLine(line, contract));
    case 'full-text':
      return `${first ? '' : '\n'}${renderContractText(contract)}`;
    case 'markdown':
      return `${first ? '' : '\n'}${renderContractMarkdown(contract)}`;
  }
}

/** The validator's message; a JSON syntax position is given within the line (the line number is already said). */
function lineReason(error: RequestValidationError): string {
  return error.message.replace(/ at line 1, column (\d+) \(position \d+\)/, ' at column $1');
}
