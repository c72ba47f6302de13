/**
 * The metric series `chaos replay` reads: a CSV with a header row and one row per interval.
 *
 *   timestamp                 ISO 8601 (with a zone or Z) or unix seconds; the start of the interval the row covers
 *   requests, errors          canary counts in the interval
 *   p50_ms, p95_ms, p99_ms    canary latency quantiles (ms)
 *   baseline_<same>           optional, the concurrent baseline version
 *   le_<ms>, baseline_le_<ms> optional cumulative latency histogram (requests at or below <ms>)
 *
 * Columns come in any order; an unknown or repeated column is an error naming it. An empty cell is "no data": a
 * version counts for an interval only when both its requests and errors are present (latency cells may be empty on
 * their own); a histogram counts only when every one of its cells is present. Every error names the line and column.
 */

import type { IntervalMetrics, LatencyStats, VersionStats } from '../domain/metrics.js';
import type { CodedError } from '../errors.js';

export class SeriesFormatError extends Error implements CodedError {
  readonly code = 'replay_invalid_series' as const;
  override readonly name = 'SeriesFormatError';

  constructor(
    message: string,
    /** 1-based line of the CSV (the header is line 1), when the problem is on one line. */
    readonly line: number | null = null,
    readonly column: string | null = null,
  ) {
    super(message);
  }
}

/** One row of the series: the interval it starts and what each version served in it. */
export interface SeriesRow {
  /** 1-based line in the CSV. */
  line: number;
  /** Unix milliseconds of the interval start. */
  at: number;
  canary: VersionStats | null;
  baseline: VersionStats | null;
}

export interface MetricSeries {
  rows: SeriesRow[];
  /** The spacing of the timestamps (the most common gap between consecutive rows), in seconds; null with one row. */
  spacingSeconds: number | null;
}

const SIDE_FIELDS = ['requests', 'errors', 'p50_ms', 'p95_ms', 'p99_ms'] as const;
type SideField = (typeof SIDE_FIELDS)[number];
const HISTOGRAM = /^le_(\d+(?:\.\d+)?)$/;

interface ColumnMap {
  timestamp: number;
  sides: Record<'canary' | 'baseline', { fields: Partial<Record<SideField, number>>; buckets: [number, number][] }>;
}

export function parseSeries(text: string): MetricSeries {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && (lines[lines.length - 1] as string).trim() === '') lines.pop();
  if (lines.length === 0) throw new SeriesFormatError('the series is empty: it needs a header row', 1);
  const header = splitLine(lines[0] as string, 1);
  const columns = mapColumns(header);
  const rows: SeriesRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i] as string;
    if (raw.trim() === '') throw new SeriesFormatError(`${rowAt(lineNo)} is empty`, lineNo);
    const cells = splitLine(raw, lineNo);
    if (cells.length !== header.length) {
      throw new SeriesFormatError(
        `${rowAt(lineNo)} has ${cells.length} cells but the header has ${header.length}`,
        lineNo,
      );
    }
    const row = parseRow(cells, header, columns, lineNo);
    const previous = rows[rows.length - 1];
    if (previous && row.at <= previous.at) {
      throw new SeriesFormatError(
        `${rowAt(lineNo)}, column timestamp: ${cells[columns.timestamp]} is not after the previous row's (${rowAt(previous.line)}); rows must be in time order`,
        lineNo,
        'timestamp',
      );
    }
    rows.push(row);
  }
  if (rows.length === 0) throw new SeriesFormatError('the series has a header but no rows', 2);
  return { rows, spacingSeconds: spacingOf(rows) };
}

/** "line 3 (row 2)": the file's line and the data row (the header is line 1). */
function rowAt(lineNo: number): string {
  return `line ${lineNo} (row ${lineNo - 1})`;
}

function splitLine(line: string, lineNo: number): string[] {
  if (line.includes('"')) {
    throw new SeriesFormatError(
      `${lineNo === 1 ? 'line 1 (header)' : rowAt(lineNo)}: quoted cells are not supported (numbers and timestamps only)`,
      lineNo,
    );
  }
  return line.split(',').map((c) => c.trim());
}

function mapColumns(header: string[]): ColumnMap {
  const map: ColumnMap = {
    timestamp: -1,
    sides: { canary: { fields: {}, buckets: [] }, baseline: { fields: {}, buckets: [] } },
  };
  const seen = new Set<string>();
  header.forEach((name, index) => {
    const where = `line 1, column ${index + 1}`;
    if (name === '') throw new SeriesFormatError(`${where}: empty column name`, 1);
    if (seen.has(name)) throw new SeriesFormatError(`${where}: column ${name} appears twice`, 1, name);
    seen.add(name);
    if (name === 'timestamp') {
      map.timestamp = index;
      return;
    }
    const side = name.startsWith('baseline_') ? 'baseline' : 'canary';
    const field = side === 'baseline' ? name.slice('baseline_'.length) : name;
    if ((SIDE_FIELDS as readonly string[]).includes(field)) {
      map.sides[side].fields[field as SideField] = index;
      return;
    }
    const bucket = HISTOGRAM.exec(field);
    if (bucket) {
      map.sides[side].buckets.push([Number(bucket[1]), index]);
      return;
    }
    throw new SeriesFormatError(
      `${where}: unknown column ${name} (expected timestamp, ${SIDE_FIELDS.join(', ')}, le_<ms>, or any of them prefixed with baseline_)`,
      1,
      name,
    );
  });
  if (map.timestamp < 0) throw new SeriesFormatError('line 1: the header has no timestamp column', 1, 'timestamp');
  for (const side of ['requests', 'errors'] as const) {
    if (map.sides.canary.fields[side] === undefined) {
      throw new SeriesFormatError(`line 1: the header has no ${side} column`, 1, side);
    }
  }
  for (const name of ['baseline'] as const) {
    const f = map.sides[name].fields;
    const any = Object.keys(f).length > 0 || map.sides[name].buckets.length > 0;
    if (any && (f.requests === undefined || f.errors === undefined)) {
      throw new SeriesFormatError(
        'line 1: baseline columns need both baseline_requests and baseline_errors',
        1,
        f.requests === undefined ? 'baseline_requests' : 'baseline_errors',
      );
    }
  }
  for (const side of Object.values(map.sides)) side.buckets.sort((a, b) => a[0] - b[0]);
  return map;
}

function parseRow(cells: string[], header: string[], columns: ColumnMap, lineNo: number): SeriesRow {
  const at = parseTimestamp(cells[columns.timestamp] as string, lineNo);
  const number = (index: number, integer: boolean): number | null => {
    const cell = cells[index] as string;
    if (cell === '') return null;
    const value = Number(cell);
    const name = header[index] as string;
    if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
      throw new SeriesFormatError(
        `${rowAt(lineNo)}, column ${name}: "${cell}" is not a ${integer ? 'non-negative integer' : 'non-negative number'}`,
        lineNo,
        name,
      );
    }
    return value;
  };
  const side = (which: 'canary' | 'baseline'): VersionStats | null => {
    const spec = columns.sides[which];
    const get = (field: SideField, integer: boolean) => {
      const index = spec.fields[field];
      return index === undefined ? null : number(index, integer);
    };
    const requests = get('requests', true);
    const errors = get('errors', true);
    const latency: LatencyStats = {
      p50Ms: get('p50_ms', false),
      p95Ms: get('p95_ms', false),
      p99Ms: get('p99_ms', false),
    };
    const histogram = parseHistogram(spec.buckets, number, header, lineNo);
    if (requests === null || errors === null) return null;
    if (errors > requests) {
      const name = header[spec.fields.errors as number] as string;
      throw new SeriesFormatError(
        `${rowAt(lineNo)}, column ${name}: ${errors} errors is more than the ${requests} requests`,
        lineNo,
        name,
      );
    }
    if (histogram) latency.histogram = histogram;
    return { requests, failures: errors, latency };
  };
  return { line: lineNo, at, canary: side('canary'), baseline: side('baseline') };
}

function parseHistogram(
  buckets: [number, number][],
  number: (index: number, integer: boolean) => number | null,
  header: string[],
  lineNo: number,
): LatencyStats['histogram'] | undefined {
  if (buckets.length === 0) return undefined;
  const out: { leMs: number; count: number }[] = [];
  for (const [leMs, index] of buckets) {
    const count = number(index, true);
    if (count === null) return undefined;
    const previous = out[out.length - 1];
    if (previous && count < previous.count) {
      const name = header[index] as string;
      throw new SeriesFormatError(
        `${rowAt(lineNo)}, column ${name}: ${count} is below the ${previous.count} of the smaller bucket; histogram columns are cumulative`,
        lineNo,
        name,
      );
    }
    out.push({ leMs, count });
  }
  return out;
}

const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const UNIX_SECONDS = /^\d+(\.\d+)?$/;

function parseTimestamp(cell: string, lineNo: number): number {
  let at = Number.NaN;
  if (UNIX_SECONDS.test(cell)) at = Math.round(Number(cell) * 1000);
  else if (ISO.test(cell)) at = Date.parse(cell.replace(' ', 'T'));
  if (!Number.isFinite(at)) {
    throw new SeriesFormatError(
      `${rowAt(lineNo)}, column timestamp: "${cell}" is neither ISO 8601 with a time zone (2026-01-05T10:00:00Z) nor unix seconds`,
      lineNo,
      'timestamp',
    );
  }
  return at;
}

function spacingOf(rows: SeriesRow[]): number | null {
  if (rows.length < 2) return null;
  const counts = new Map<number, number>();
  for (let i = 1; i < rows.length; i++) {
    const gap = (rows[i] as SeriesRow).at - (rows[i - 1] as SeriesRow).at;
    counts.set(gap, (counts.get(gap) ?? 0) + 1);
  }
  let best = 0;
  let bestCount = 0;
  for (const [gap, count] of counts) {
    if (count > bestCount || (count === bestCount && gap < best)) {
      best = gap;
      bestCount = count;
    }
  }
  return best / 1000;
}

/**
 * What a metric provider answers for [start, end): the rows whose timestamp falls in it. One row is returned as it
 * is; several (an interval longer than the spacing) are merged: counts and histograms add up, and each quantile is
 * the largest of the rows' (a pooled quantile never exceeds it). No row: no data for either version.
 */
export function intervalFromRows(rows: readonly SeriesRow[], start: number, end: number): IntervalMetrics {
  const inside: SeriesRow[] = [];
  for (let i = firstAtOrAfter(rows, start); i < rows.length && (rows[i] as SeriesRow).at < end; i++) {
    inside.push(rows[i] as SeriesRow);
  }
  return {
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    canary: merge(inside.map((r) => r.canary)),
    baseline: merge(inside.map((r) => r.baseline)),
  };
}

/** Index of the first row at or after `at` (rows are in time order). */
function firstAtOrAfter(rows: readonly SeriesRow[], at: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((rows[mid] as SeriesRow).at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function merge(sides: (VersionStats | null)[]): VersionStats | null {
  const present = sides.filter((s): s is VersionStats => s !== null);
  if (present.length === 0) return null;
  if (present.length === 1) return present[0] as VersionStats;
  const max = (pick: (l: LatencyStats) => number | null) => {
    const values = present.map((s) => pick(s.latency)).filter((v): v is number => v !== null);
    return values.length === present.length ? Math.max(...values) : null;
  };
  const latency: LatencyStats = { p50Ms: max((l) => l.p50Ms), p95Ms: max((l) => l.p95Ms), p99Ms: max((l) => l.p99Ms) };
  const histograms = present.map((s) => s.latency.histogram);
  const first = histograms[0];
  if (first && histograms.every((h) => h && h.length === first.length)) {
    latency.histogram = first.map((b, i) => ({
      leMs: b.leMs,
      count: histograms.reduce((sum, h) => sum + ((h as { count: number }[])[i] as { count: number }).count, 0),
    }));
  }
  return {
    requests: present.reduce((a, s) => a + s.requests, 0),
    failures: present.reduce((a, s) => a + s.failures, 0),
    latency,
  };
}
