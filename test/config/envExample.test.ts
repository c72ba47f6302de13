import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

const root = join(import.meta.dirname, '..', '..');
const configSource = readFileSync(join(root, 'src', 'config', 'config.ts'), 'utf8');
const readByConfig = new Set(
  [...configSource.matchAll(/r\.(?:read|has|raw)\(\s*'([A-Za-z_]+)'|readExistingFile\(r, '([A-Z_]+)'/g)].map(
    (m) => (m[1] ?? m[2]) as string,
  ),
);
const example = readFileSync(join(root, '.env.example'), 'utf8');
const listed = [...example.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1] as string);
const readme = readFileSync(join(root, 'src', 'config', 'README.md'), 'utf8');

describe('.env.example and the configuration README', () => {
  it('list exactly the variables the loader reads, each with a comment', () => {
    expect(readByConfig.size).toBeGreaterThan(40);
    expect(new Set(listed)).toEqual(readByConfig);
    expect(listed.length).toBe(new Set(listed).size);
    const lines = example.split('\n');
    for (const name of listed) {
      const index = lines.findIndex((line) => line.startsWith(`${name}=`));
      // Directly under a comment, or in a group of variables that sits directly under one.
      let above = index - 1;
      while (above >= 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(lines[above] ?? '')) above--;
      expect(lines[above] ?? '', `${name} has no comment above it`).toMatch(/^# /);
    }
  });

  it('.env.example as shipped (all empty) is a valid development configuration', () => {
    const env = Object.fromEntries(listed.map((name) => [name, '']));
    expect(loadConfig(env, { fileExists: () => false }).mode).toBe('development');
  });

  it('documents every variable in the README table', () => {
    for (const name of readByConfig) expect(readme, name).toContain(`\`${name}\``);
  });
});
