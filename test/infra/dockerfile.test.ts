import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** Joins continuation lines, drops comments, splits into stages. Enough of the Dockerfile grammar for these checks. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full !== '') logical.push(full);
  }
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`not an instruction: ${line}`);
    const keyword = match[1] as string;
    const args = match[2] as string;
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`bad FROM: ${args}`);
      const image = (from[1] as string).replace(/\$\{(\w+)\}/g, (_m, name: string) => globalArgs[name] ?? '');
      stages.push({ name: from[2] ?? String(stages.length), image, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) {
      if (keyword !== 'ARG') throw new Error(`${keyword} before FROM`);
      const [name, value = ''] = args.split('=');
      globalArgs[name as string] = value;
      continue;
    }
    stage.instructions.push({ keyword, args });
  }
  return { args: globalArgs, stages };
}

/** The Node options and entry of the `node …` command in an npm script (`--import tsx` is the loader, not an option). */
function nodeCommandOf(script: string): { flags: string[]; entry: string } {
  const words = script.split(/\s+/);
  const rest = words.slice(words.lastIndexOf('node') + 1);
  const flags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] as string;
    if (word === '--import') i++;
    else if (word.startsWith('--')) flags.push(word);
    else return { flags, entry: word };
  }
  return { flags, entry: '' };
}

const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const stage = (name: string) => {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const final = dockerfile.stages[dockerfile.stages.length - 1] as Stage;

describe('Dockerfile', () => {
  it('is multi-stage on a Node 22+ Debian slim base', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['base', 'deps', 'build', 'prod-deps', 'runtime']);
    const base = stage('base').image;
    const major = Number(/^node:(\d+)/.exec(base)?.[1]);
    expect(major).toBeGreaterThanOrEqual(22);
    expect(major % 2, 'an LTS (even) Node major').toBe(0);
    expect(base).toMatch(/-slim$/);
    for (const s of dockerfile.stages.slice(1)) {
      expect(['base', 'deps'], `${s.name} builds on an earlier stage`).toContain(s.image);
    }
  });

  it('installs with npm ci, builds with npm run build and ships production dependencies only', () => {
    expect(runs(stage('deps')).join('\n')).toMatch(/npm ci\b/);
    expect(runs(stage('build')).join('\n')).toMatch(/npm run build/);
    expect(runs(stage('prod-deps')).join('\n')).toMatch(/npm ci --omit=dev/);
    const copies = final.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.some((c) => c.includes('--from=prod-deps') && c.includes('node_modules'))).toBe(true);
    expect(copies.some((c) => c.includes('--from=build') && c.includes('/app/dist'))).toBe(true);
    expect(
      copies.some((c) => /\bsrc\b/.test(c)),
      'no TypeScript sources in the runtime image',
    ).toBe(false);
    expect(
      copies.some((c) => c.includes('--from=deps')),
      'no dev dependencies in the runtime image',
    ).toBe(false);
  });

  it('copies the project .npmrc and honours allowScripts (no install scripts run)', () => {
    const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      allowScripts?: Record<string, boolean>;
    };
    expect(Object.values(packageJson.allowScripts ?? {}).every((allowed) => allowed === false)).toBe(true);
    for (const name of ['deps', 'prod-deps']) {
      const s = stage(name);
      expect(s.instructions.find((i) => i.keyword === 'COPY')?.args).toContain('.npmrc');
      for (const run of runs(s).filter((r) => r.includes('npm ci'))) expect(run).toContain('--ignore-scripts');
    }
  });

  it('copies only files that exist', () => {
    for (const s of dockerfile.stages) {
      for (const copy of s.instructions.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))) {
        const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const path of parts.slice(0, -1))
          expect(existsSync(join(root, path)), `${s.name}: COPY ${path}`).toBe(true);
      }
    }
  });

  it('runs as a non-root user, exposes 3978, health-checks /healthz with node, starts dist/main.js', () => {
    const user = final.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(final.instructions.find((i) => i.keyword === 'EXPOSE')?.args).toBe('3978');
    const healthcheck = final.instructions.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
    expect(healthcheck).toMatch(/CMD \["node", "-e", /);
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).not.toMatch(/curl|wget/);
    // The probe script itself must be valid JavaScript.
    const script = JSON.parse(healthcheck.slice(healthcheck.indexOf('['))) as string[];
    expect(() => new Function(script[2] as string)).not.toThrow();
    // The image runs the compiled entry with the same Node flags as `npm start` and `npm run dev` (memory settings).
    const scripts = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    const start = nodeCommandOf(scripts.start ?? '');
    expect(start.entry).toBe('dist/main.js');
    expect(start.flags).toContain('--liftoff-only');
    expect(nodeCommandOf(scripts.dev ?? '')).toEqual({ flags: start.flags, entry: 'src/main.ts' });
    const cmd = JSON.parse(final.instructions.find((i) => i.keyword === 'CMD')?.args ?? '[]') as string[];
    expect(cmd).toEqual(['node', ...start.flags, 'dist/main.js']);
    const userIndex = final.instructions.findIndex((i) => i.keyword === 'USER');
    const cmdIndex = final.instructions.findIndex((i) => i.keyword === 'CMD');
    expect(userIndex).toBeLessThan(cmdIndex);
  });

  it('keeps secrets and bulk out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const entry of ['node_modules', '.git', '.env', '.env.*', 'env', '.data', 'dist', 'coverage']) {
      expect(ignored).toContain(entry);
    }
    for (const needed of ['src', 'package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'bin']) {
      expect(ignored).not.toContain(needed);
    }
  });
});
