/**
 * Kamei et al. (2013) change-spread metrics from per-file line counts, computed the same way for JSON requests,
 * chat requests and git ranges.
 *
 * - files (nf): distinct paths.
 * - directories (nd): distinct parent directories (`src/api/x.ts` → `src/api`; a root file counts as directory `.`).
 * - subsystems (ns): distinct top-level segments (`src/api/x.ts` → `src`; a root file counts as subsystem `.`).
 * - entropy: Shannon entropy, in bits, of the modified lines (added + deleted) across files:
 *   H = −Σ pₖ·log₂ pₖ with pₖ = linesₖ / Σ lines. NOT normalised: the JIT defect data in
 *   /work/shared/data/jit-defects (`entrophy` column) stores raw bits (a 3-file commit has values up to log₂3 ≈ 1.585),
 *   and the size model is calibrated on that column, so we compute the same quantity. Files with no modified
 *   lines (binary files, pure renames) do not contribute; 0 or 1 contributing file gives 0.
 */
import type { ChangeSpread } from '../model.js';

export interface SpreadFile {
  path: string;
  linesAdded: number;
  linesDeleted: number;
}

export function computeSpreadFromFiles(files: readonly SpreadFile[]): ChangeSpread {
  const perPath = new Map<string, number>();
  const directories = new Set<string>();
  const subsystems = new Set<string>();
  let linesAdded = 0;
  let linesDeleted = 0;
  for (const file of files) {
    const path = normalisePath(file.path);
    linesAdded += file.linesAdded;
    linesDeleted += file.linesDeleted;
    perPath.set(path, (perPath.get(path) ?? 0) + file.linesAdded + file.linesDeleted);
    directories.add(parentDirectory(path));
    const firstSlash = path.indexOf('/');
    subsystems.add(firstSlash < 0 ? '.' : path.slice(0, firstSlash));
  }
  return {
    linesAdded,
    linesDeleted,
    files: perPath.size,
    directories: directories.size,
    subsystems: subsystems.size,
    entropy: shannonEntropyBits([...perPath.values()]),
  };
}

export function shannonEntropyBits(weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) if (w > 0) total += w;
  if (total <= 0) return 0;
  let h = 0;
  for (const w of weights) {
    if (w <= 0) continue;
    const p = w / total;
    h -= p * Math.log2(p);
  }
  // Guard against -0 and rounding noise for a single file.
  return h > 1e-12 ? h : 0;
}

/** `src/api/x.ts` → `src/api`; a root file is in directory `.` (expects a normalised path). */
export function parentDirectory(path: string): string {
  const lastSlash = path.lastIndexOf('/');
  return lastSlash < 0 ? '.' : path.slice(0, lastSlash);
}

/** Forward slashes, no leading `./` or `/`. */
export function normalisePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '');
}
