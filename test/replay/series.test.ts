import { describe, expect, it } from 'vitest';
import { intervalFromRows, parseSeries, SeriesFormatError } from '../../src/replay/series.js';

function error(text: string): SeriesFormatError {
  try {
    parseSeries(text);
  } catch (e) {
    if (e instanceof SeriesFormatError) return e;
    throw e;
  }
  throw new Error('expected a SeriesFormatError');
}

describe('parseSeries', () => {
  it('reads columns in any order, ISO and unix timestamps, baseline and histogram columns', () => {
    const series = parseSeries(
      [
        'p99_ms,errors,timestamp,requests,p95_ms,p50_ms,baseline_requests,baseline_errors,le_100,le_250,baseline_p95_ms',
        '400,2,1767607200,1000,200,80,9000,9,900,990,190',
        '410,3,2026-01-05T10:01:00Z,1100,210,81,9100,8,1000,1090,',
      ].join('\n'),
    );
    expect(series.spacingSeconds).toBe(60);
    const [a, b] = series.rows;
    expect(a?.at).toBe(Date.parse('2026-01-05T10:00:00Z'));
    expect(a?.canary).toEqual({
      requests: 1000,
      failures: 2,
      latency: {
        p50Ms: 80,
        p95Ms: 200,
        p99Ms: 400,
        histogram: [
          { leMs: 100, count: 900 },
          { leMs: 250, count: 990 },
        ],
      },
    });
    expect(a?.baseline).toEqual({ requests: 9000, failures: 9, latency: { p50Ms: null, p95Ms: 190, p99Ms: null } });
    expect(b?.baseline?.latency.p95Ms).toBeNull();
  });

  it('takes an empty count as no data for that version, and an empty quantile as a missing quantile', () => {
    const series = parseSeries('timestamp,requests,errors,p95_ms\n60,,0,100\n120,50,1,\n');
    expect(series.rows[0]?.canary).toBeNull();
    expect(series.rows[1]?.canary?.latency.p95Ms).toBeNull();
  });

  it('names the unknown column', () => {
    const e = error('timestamp,requests,errors,p90_ms\n60,1,0,5\n');
    expect(e.message).toContain('unknown column p90_ms');
    expect(e.column).toBe('p90_ms');
  });

  it('names the line and column of a bad cell', () => {
    const e = error('timestamp,requests,errors\n60,10,0\n120,ten,0\n');
    expect(e.message).toBe('line 3 (row 2), column requests: "ten" is not a non-negative integer');
    expect([e.line, e.column]).toEqual([3, 'requests']);
    expect(error('timestamp,requests,errors\n60,10,11\n').message).toContain('line 2 (row 1), column errors');
    expect(error('timestamp,requests,errors\nyesterday,10,1\n').message).toContain('line 2 (row 1), column timestamp');
    expect(error('timestamp,requests,errors\n120,10,1\n60,10,1\n').message).toContain('not after the previous row');
    expect(error('timestamp,requests,errors,le_100,le_50\n60,10,1,5,6\n').message).toContain('column le_100');
    expect(error('timestamp,requests,errors\n60,10\n').message).toContain('line 2 (row 1) has 2 cells');
  });

  it('needs the timestamp, requests and errors columns, and both baseline counts', () => {
    expect(error('requests,errors\n1,0\n').column).toBe('timestamp');
    expect(error('timestamp,errors\n1,0\n').column).toBe('requests');
    expect(error('timestamp,requests,errors,baseline_requests\n1,1,0,1\n').column).toBe('baseline_errors');
    expect(error('timestamp,requests,errors,errors\n1,1,0,0\n').message).toContain('appears twice');
  });
});

describe('intervalFromRows', () => {
  const { rows } = parseSeries('timestamp,requests,errors,p95_ms,le_100\n0,10,1,100,8\n60,20,0,300,15\n180,5,0,50,5\n');
  it('answers one row as it is, several merged, none as no data', () => {
    expect(intervalFromRows(rows, 0, 60_000).canary?.requests).toBe(10);
    const merged = intervalFromRows(rows, 0, 120_000).canary;
    expect(merged?.requests).toBe(30);
    expect(merged?.failures).toBe(1);
    expect(merged?.latency.p95Ms).toBe(300);
    expect(merged?.latency.histogram).toEqual([{ leMs: 100, count: 23 }]);
    expect(intervalFromRows(rows, 120_000, 180_000).canary).toBeNull();
  });
});
