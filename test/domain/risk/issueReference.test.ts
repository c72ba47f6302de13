import { describe, expect, it } from 'vitest';
import { parseKeyValueRequest } from '../../../src/domain/chatRequest.js';
import { parseDeploymentRequest } from '../../../src/domain/request.js';
import { findIssueReference, issueReferenceState } from '../../../src/domain/risk/issueReference.js';

describe('issue references as engineers write them', () => {
  it.each<[string, string]>([
    ['Fixes #123', 'Fixes #123'],
    ['closes #12 and adds a test', 'closes #12'],
    ['Resolved: #7', 'Resolved: #7'],
    ['net/http: reject bad hosts\n\nFixes golang/go#41234', 'Fixes golang/go#41234'],
    ['Updates #9', 'Updates #9'],
    ['see kubernetes/kubernetes#1024 for the design', 'see kubernetes/kubernetes#1024'],
    ['as in kubernetes/kubernetes#1024', 'kubernetes/kubernetes#1024'],
    ['Fix NPE in the index\n\nBug: 12345\nChange-Id: I0123456789abcdef', 'Bug: 12345'],
    ['Fix login\n\nBug: Issue 123', 'Bug: Issue 123'],
    ['Fix it\n\nBug: b/123456', 'Bug: b/123456'],
    ['Fix it\n\nBug: chromium:1234', 'Bug: chromium:1234'],
    ['Bug 573943 - NPE in ASTParser', 'Bug 573943'],
    ['fix for bug #12', 'bug #12'],
    ['Issue 1234: tab order', 'Issue 1234'],
    ['issue: 77', 'issue: 77'],
    ['PROJ-42 add retries', 'PROJ-42'],
    ['Task-number: QTBUG-1234', 'QTBUG-1234'],
    ['Fixes: QTBUG-99\nReviewed-by: A', 'QTBUG-99'],
    ['patch CVE-2021-44228', 'CVE-2021-44228'],
    ['(see https://issues.example.com/browse/OPS-7)', 'OPS-7'],
  ])('"%s" names an issue (%s)', (text, reference) => {
    expect(findIssueReference(text)).toBe(reference);
  });

  it.each([
    'Use UTF-8 everywhere',
    'Hash with SHA-256 and SHA-1',
    'Dates as ISO-8601',
    'Build for X86-64 and x86-64',
    'Follow RFC-2616 for caching headers', // a specification, not an issue of the project's tracker
    'AES-128 keys, CRC-32 checksums, TLS-1 removed, ISO-8859-1 input',
    'Merge pull request #123 from someone/branch', // a pull request number, not an issue
    'Add retries (#456)', // a squash-merge suffix
    'Update to JDK-1.8', // a version, not a key
    'bump version to 1.2-3',
    'refactor the bug-report dialog; fix the issue tracker link',
    'rebug 12, myissue 4, fooJIRA-1, src/PROJ-12.ts', // inside longer words and paths
    'Change-Id: I6a5b4c3d2e1f\nSigned-off-by: A <a@b.c>',
  ])('"%s" names none', (text) => {
    expect(findIssueReference(text)).toBeUndefined();
  });

  it('takes the first reference of the text, clipped to a card line', () => {
    expect(findIssueReference('QTBUG-2 then Fixes #1')).toBe('QTBUG-2');
    expect(findIssueReference(`Fixes ${'a'.repeat(80)}/r#1`)?.length).toBeLessThanOrEqual(60);
  });
});

describe('where the text comes from', () => {
  const base = { deployment_id: 'd', service_name: 's', environment: 'production', version: '1' };

  it('is unknown with no message, PR text or description, and ignores the intake notes', () => {
    expect(issueReferenceState(parseDeploymentRequest(base))).toEqual({ kind: 'unknown' });
    const noted = parseDeploymentRequest({ ...base, commit_messages: ['[chaos] GitHub listed 300 changed files'] });
    expect(issueReferenceState(noted)).toEqual({ kind: 'unknown' });
  });

  it('reads commit messages, and per-file descriptions of a deployment JSON', () => {
    const message = parseDeploymentRequest({ ...base, commit_messages: ['refactor', 'Fixes #8'] });
    expect(issueReferenceState(message)).toEqual({
      kind: 'references',
      reference: 'Fixes #8',
      source: 'commit_message',
    });
    const described = parseDeploymentRequest(
      {
        ...base,
        changes: [
          { file_path: 'a.ts', change_type: 'modify', lines_added: 1, lines_deleted: 0, description: 'for PAY-12' },
        ],
      },
      { source: { kind: 'json' } },
    );
    expect(issueReferenceState(described)).toEqual({ kind: 'references', reference: 'PAY-12', source: 'description' });
    const plain = parseDeploymentRequest({ ...base, commit_messages: ['tidy imports'] });
    expect(issueReferenceState(plain)).toEqual({ kind: 'none' });
  });

  it("reads a chat request's description", () => {
    const chat = parseKeyValueRequest('service=checkout version=2.4.1 description="Fixes PAY-7: double charge"');
    expect(issueReferenceState(chat)).toEqual({ kind: 'references', reference: 'PAY-7', source: 'commit_message' });
  });
});
