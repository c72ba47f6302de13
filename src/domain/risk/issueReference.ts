/**
 * "Fixes a tracked issue": does the change's own text (commit messages, a pull request's title and body, the
 * description of a chat or JSON request) name an issue of a tracker, the way engineers write it?
 *
 * The risk model's weight for this feature is fitted on the benchmark's Kamei `fix` column, whose extractor marked a
 * commit when its message named an issue key that exists in the project's tracker (a bug-fix commit). The product
 * cannot ask the tracker, so this detector approximates that label from the text alone: it accepts the usual forms of
 * an issue reference and rejects identifiers that only look like keys (standards, encodings, architectures).
 *
 *   Fixes #123, Closes #12, Resolved #7, Updates #9, Refs #4  GitHub keywords (also `Fixes owner/repo#12`)
 *   owner/repo#12                                            a GitHub cross-repository reference
 *   Bug: 12345, Bug: Issue 123, Bug: b/123, Bug: chromium:1   Gerrit / Chromium footers
 *   Bug 573943 - title, bug #12, Issue 1234, issue: 77       Bugzilla (Eclipse) and tracker numbers
 *   JIRA-123, QTBUG-1234, Task-number: QTBUG-1               project keys [A-Z][A-Z0-9]+-digits
 *   CVE-2021-44228                                           a vulnerability being fixed
 *
 * Not references: a bare `#123` (a pull request number in "Merge pull request #123" or a squash suffix "(#123)"),
 * standards and encodings that share the key shape (UTF-8, SHA-256, ISO-8601, X86-64, RFC-2616, AES-128, CRC-32, …),
 * version strings and file names (a key followed by `.x` or `-x`: `JDK-1.8`, `PROJ-12.ts`).
 * Pure and linear in the length of the text.
 */
import type { DeploymentRequest } from '../model.js';

/** Notes the intake adds to the messages (e.g. "[chaos] GitHub listed 300 changed files…") are not the author's text. */
const INTAKE_NOTE = /^\[chaos\]/;

/**
 * Prefixes of standards, encodings, algorithms and architectures written like a tracker key. RFC is here too: "RFC-2616"
 * cites a specification, not an issue of the project's tracker (the dataset's extractor only counted keys that exist
 * in the tracker).
 */
const NOT_ISSUE_KEYS = new Set([
  'AES',
  'ARM',
  'ASCII',
  'BASE',
  'CP',
  'CRC',
  'DES',
  'ECMA',
  'ES',
  'GPL',
  'HTTP',
  'IEC',
  'IEEE',
  'IPV',
  'ISO',
  'LGPL',
  'MD',
  'PEP',
  'RC',
  'RFC',
  'SHA',
  'SSL',
  'TLS',
  'UCS',
  'UTF',
  'WIN',
  'X86',
]);

// Every pattern is anchored on a word boundary so a key inside a longer token (`fooJIRA-1`, `mybug 12`) is not read.
const GITHUB_KEYWORD =
  /\b(?:fix(?:e[sd])?|close[sd]?|resolve[sd]?|updates?|refs?|references?|see)\b:?[ \t]*((?:[\w.-]+\/[\w.-]+)?#\d+)\b/gi;
const CROSS_REPOSITORY = /(?<![\w./-])([A-Za-z0-9][\w.-]*\/[\w.-]+#\d+)\b/g;
const BUG_FOOTER = /^[ \t]*(bug:[ \t]*(?:issue[ \t]+|b\/|[a-z][\w-]*:)?#?\d+)\b/gim;
const TRACKER_NUMBER = /\b((?:bug|issue)(?::[ \t]*#?|[ \t]*#|[ \t]+)\d+)\b(?![.-]\d)/gi;
// Not followed by `.x` or `-x`: `JDK-1.8` is a version, `PROJ-12.ts` a file name, `CVE-2021-44228` is read whole below.
const PROJECT_KEY = /(?<![\w.-])([A-Z][A-Z0-9]+)-(\d+)\b(?![.-]\w)/g;
const CVE = /\b(CVE-\d{4}-\d{4,})\b/g;
const DIGIT = /\d/;
const BUG_OR_ISSUE = /bug|issue/i;

export type IssueReferenceState =
  /** Some text names an issue: `reference` is the first one found, as written, and where it was found. */
  | { kind: 'references'; reference: string; source: AuthoredText['source'] }
  /** There is message text and none of it names an issue. */
  | { kind: 'none' }
  /** No commit message, pull request text or description at all: nothing to read. */
  | { kind: 'unknown' };

/** The first issue reference in one text, as written (trimmed), or undefined. */
export function findIssueReference(text: string): string | undefined {
  // Every form has a digit; most messages are read without running a pattern (chaos assess --batch stays µs-level).
  if (!DIGIT.test(text)) return undefined;
  let best: { at: number; text: string } | undefined;
  const consider = (pattern: RegExp, accept: (m: RegExpExecArray) => string | undefined) => {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      const found = accept(m);
      if (found === undefined) continue;
      if (!best || m.index < best.at) best = { at: m.index, text: found };
      break;
    }
  };
  if (text.includes('#')) {
    consider(GITHUB_KEYWORD, (m) => m[0]);
    consider(CROSS_REPOSITORY, (m) => m[1]);
  }
  if (BUG_OR_ISSUE.test(text)) {
    consider(BUG_FOOTER, (m) => m[1]);
    consider(TRACKER_NUMBER, (m) => m[1]);
  }
  if (text.includes('-')) {
    consider(PROJECT_KEY, (m) => (NOT_ISSUE_KEYS.has(m[1] ?? '') ? undefined : m[0]));
    consider(CVE, (m) => m[1]);
  }
  return best ? clip(best.text.trim().replace(/\s+/g, ' ')) : undefined;
}

export interface AuthoredText {
  source: 'commit_message' | 'description';
  text: string;
}

/**
 * The text a person wrote about the change: commit messages (a pull request's title and body and a chat request's
 * description arrive as commit messages too) and, in a deployment JSON, the per-file descriptions.
 */
export function authoredTexts(request: DeploymentRequest): AuthoredText[] {
  const texts: AuthoredText[] = [];
  for (const m of request.commitMessages) {
    if (m.trim() !== '' && !INTAKE_NOTE.test(m)) texts.push({ source: 'commit_message', text: m });
  }
  // The git and GitHub intakes write their own notes into the per-file descriptions ("renamed from …"): only a
  // deployment JSON's descriptions are a person's text.
  if (request.source.kind === 'json') {
    for (const c of request.changes) {
      if (c.description.trim() !== '') texts.push({ source: 'description', text: c.description });
    }
  }
  return texts;
}

export function issueReferenceState(request: DeploymentRequest): IssueReferenceState {
  const texts = authoredTexts(request);
  if (texts.length === 0) return { kind: 'unknown' };
  for (const { source, text } of texts) {
    const reference = findIssueReference(text);
    if (reference !== undefined) return { kind: 'references', reference, source };
  }
  return { kind: 'none' };
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
