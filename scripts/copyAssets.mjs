/**
 * `npm run build`, second step: tsc emits JavaScript only, so the runtime assets kept next to the sources (card
 * templates, SQL, prompts, …) are copied into the output as well. Usage: node scripts/copyAssets.mjs [outDir]
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const outDir = process.argv[2] ?? join(root, 'dist');
cpSync(join(root, 'src'), outDir, { recursive: true, filter: (path) => !path.endsWith('.ts') });
