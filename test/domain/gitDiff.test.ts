import { describe, expect, it } from 'vitest';
import {
  GIT_LOG_FORMAT,
  parseGitLog,
  parseNameStatus,
  parseNumstat,
  parseUnifiedDiff,
  unquote,
} from '../../src/domain/gitDiff.js';

describe('parseNumstat', () => {
  it('reads plain numstat lines with renames and binary files', () => {
    const text = [
      '10\t2\tsrc/app.ts',
      '-\t-\tassets/logo.png',
      '0\t0\tsrc/{old => new}/file.ts',
      '3\t1\tlib/a.ts => lib/b.ts',
      '1\t0\t"odd\\tname.txt"',
      '',
    ].join('\n');
    expect(parseNumstat(text)).toEqual([
      { path: 'src/app.ts', added: 10, deleted: 2, binary: false },
      { path: 'assets/logo.png', added: null, deleted: null, binary: true },
      { path: 'src/new/file.ts', oldPath: 'src/old/file.ts', added: 0, deleted: 0, binary: false },
      { path: 'lib/b.ts', oldPath: 'lib/a.ts', added: 3, deleted: 1, binary: false },
      { path: 'odd\tname.txt', added: 1, deleted: 0, binary: false },
    ]);
  });

  it('reads -z numstat, including renames and paths with spaces', () => {
    const text = '10\t2\tsrc/my file.ts\u00003\t1\t\u0000lib/a.ts\u0000lib/b.ts\u0000-\t-\timg.png\u0000';
    expect(parseNumstat(text)).toEqual([
      { path: 'src/my file.ts', added: 10, deleted: 2, binary: false },
      { path: 'lib/b.ts', oldPath: 'lib/a.ts', added: 3, deleted: 1, binary: false },
      { path: 'img.png', added: null, deleted: null, binary: true },
    ]);
  });
});

describe('parseNameStatus', () => {
  it('maps git status letters to change types (plain and -z)', () => {
    const plain = 'M\tsrc/a.ts\nA\tsrc/b.ts\nD\tsrc/c.ts\nR087\told.ts\tnew.ts\n';
    const z = 'M\u0000src/a.ts\u0000A\u0000src/b.ts\u0000D\u0000src/c.ts\u0000R087\u0000old.ts\u0000new.ts\u0000';
    const expected = [
      { path: 'src/a.ts', changeType: 'modify', status: 'M' },
      { path: 'src/b.ts', changeType: 'add', status: 'A' },
      { path: 'src/c.ts', changeType: 'delete', status: 'D' },
      { path: 'new.ts', oldPath: 'old.ts', changeType: 'rename', status: 'R087' },
    ];
    expect(parseNameStatus(plain)).toEqual(expected);
    expect(parseNameStatus(z)).toEqual(expected);
  });
});

describe('parseGitLog', () => {
  it('reads commits in GIT_LOG_FORMAT with multi-line messages and numstat', () => {
    expect(GIT_LOG_FORMAT).toBe('%x1e%H%x1f%an%x1f%ae%x1f%B%x1f');
    const text =
      '\x1eaaaa\x1fAnn\x1fann@example.com\x1fAdd orders table\n\nWith an index.\n\x1f\n2\t0\tdb/1.sql\n' +
      '\x1ebbbb\x1fBob\x1fbob@example.com\x1fFix cache\n\x1f\n';
    expect(parseGitLog(text)).toEqual([
      {
        hash: 'aaaa',
        authorName: 'Ann',
        authorEmail: 'ann@example.com',
        message: 'Add orders table\n\nWith an index.',
        files: [{ path: 'db/1.sql', added: 2, deleted: 0, binary: false }],
      },
      { hash: 'bbbb', authorName: 'Bob', authorEmail: 'bob@example.com', message: 'Fix cache', files: [] },
    ]);
  });
});

const DIFF = `diff --git a/db/migrations/001.sql b/db/migrations/001.sql
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/db/migrations/001.sql
@@ -0,0 +1,2 @@
+ALTER TABLE orders ADD COLUMN note text;
+CREATE INDEX idx ON orders(note);
diff --git a/src/cache/redis.ts b/src/cache/redis.ts
index 2222222..3333333 100644
--- a/src/cache/redis.ts
+++ b/src/cache/redis.ts
@@ -3 +3 @@ export const client = 1;
-const TTL = 60;
+const TTL = 300;
@@ -10,0 +11,2 @@ function x() {
+// ++ not a header
+--not a deletion either
\\ No newline at end of file
diff --git a/old name.ts b/new name.ts
similarity index 90%
rename from old name.ts
rename to new name.ts
index 4444444..5555555 100644
--- a/old name.ts
+++ b/new name.ts
@@ -1 +1 @@
-a
+b
diff --git a/gone.ts b/gone.ts
deleted file mode 100644
index 6666666..0000000
--- a/gone.ts
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
diff --git a/logo.png b/logo.png
index 7777777..8888888 100644
Binary files a/logo.png and b/logo.png differ
diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"
index 9999999..aaaaaaa 100644
--- "a/caf\\303\\251.txt"
+++ "b/caf\\303\\251.txt"
@@ -0,0 +1 @@
+hello
`;

describe('parseUnifiedDiff', () => {
  it('reads files, change types, renames, binaries and added lines with new line numbers', () => {
    const { files, truncated } = parseUnifiedDiff(DIFF);
    expect(truncated).toBe(false);
    expect(files.map((f) => [f.path, f.changeType, f.added, f.deleted, f.binary])).toEqual([
      ['db/migrations/001.sql', 'add', 2, 0, false],
      ['src/cache/redis.ts', 'modify', 3, 1, false],
      ['new name.ts', 'rename', 1, 1, false],
      ['gone.ts', 'delete', 0, 2, false],
      ['logo.png', 'modify', 0, 0, true],
      ['café.txt', 'modify', 1, 0, false],
    ]);
    expect(files[0]?.addedLines).toEqual([
      { line: 1, text: 'ALTER TABLE orders ADD COLUMN note text;' },
      { line: 2, text: 'CREATE INDEX idx ON orders(note);' },
    ]);
    expect(files[1]?.addedLines).toEqual([
      { line: 3, text: 'const TTL = 300;' },
      { line: 11, text: '// ++ not a header' },
      { line: 12, text: '--not a deletion either' },
    ]);
    expect(files[2]?.oldPath).toBe('old name.ts');
  });

  it('tracks line numbers through context lines (-U3 diffs)', () => {
    const text = [
      'diff --git a/x.ts b/x.ts',
      '--- a/x.ts',
      '+++ b/x.ts',
      '@@ -5,4 +5,5 @@',
      ' five',
      '-six',
      '+SIX',
      '+six and a half',
      ' seven',
      ' eight',
    ].join('\n');
    expect(parseUnifiedDiff(text).files[0]?.addedLines).toEqual([
      { line: 6, text: 'SIX' },
      { line: 7, text: 'six and a half' },
    ]);
  });

  it('reports a diff cut inside a hunk as truncated and keeps what it read', () => {
    const cut = DIFF.slice(0, DIFF.indexOf('+CREATE INDEX'));
    const { files, truncated } = parseUnifiedDiff(cut);
    expect(truncated).toBe(true);
    expect(files[0]?.addedLines).toEqual([{ line: 1, text: 'ALTER TABLE orders ADD COLUMN note text;' }]);
  });

  it('handles empty input', () => {
    expect(parseUnifiedDiff('')).toEqual({ files: [], truncated: false });
  });
});

describe('unquote', () => {
  it('undoes git C-style quoting', () => {
    expect(unquote('"a\\tb\\"c\\\\d"')).toBe('a\tb"c\\d');
    expect(unquote('"caf\\303\\251"')).toBe('café');
    expect(unquote('plain')).toBe('plain');
  });
});
