import { describe, expect, it } from 'vitest';
import { computeSpreadFromFiles, shannonEntropyBits } from '../../../src/domain/risk/spread.js';

describe('computeSpreadFromFiles (Kamei et al. change metrics)', () => {
  it('counts files, parent directories and top-level subsystems', () => {
    const spread = computeSpreadFromFiles([
      { path: 'src/api/a.ts', linesAdded: 10, linesDeleted: 0 },
      { path: 'src/api/b.ts', linesAdded: 5, linesDeleted: 5 },
      { path: 'src/cache/c.ts', linesAdded: 10, linesDeleted: 0 },
      { path: 'db/migrations/1.sql', linesAdded: 10, linesDeleted: 0 },
      { path: 'README', linesAdded: 0, linesDeleted: 0 },
    ]);
    expect(spread).toMatchObject({ linesAdded: 35, linesDeleted: 5, files: 5, directories: 4, subsystems: 3 });
    // Four files with 10 modified lines each (README has none): log2(4) = 2 bits, not normalised.
    expect(spread.entropy).toBeCloseTo(2, 12);
  });

  it('merges repeated paths and normalises separators', () => {
    const spread = computeSpreadFromFiles([
      { path: './src\\x.ts', linesAdded: 1, linesDeleted: 0 },
      { path: 'src/x.ts', linesAdded: 1, linesDeleted: 0 },
    ]);
    expect(spread).toMatchObject({ files: 1, directories: 1, subsystems: 1, entropy: 0, linesAdded: 2 });
  });

  it('matches the data set definition: raw Shannon entropy in bits', () => {
    expect(shannonEntropyBits([1, 1])).toBe(1);
    expect(shannonEntropyBits([5])).toBe(0);
    expect(shannonEntropyBits([])).toBe(0);
    expect(shannonEntropyBits([1, 1, 100])).toBeCloseTo(0.1588, 4);
    expect(computeSpreadFromFiles([])).toEqual({
      linesAdded: 0,
      linesDeleted: 0,
      files: 0,
      directories: 0,
      subsystems: 0,
      entropy: 0,
    });
  });
});
