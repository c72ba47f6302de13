import { describe, expect, it } from 'vitest';
import { classifyAssessArgs, normaliseText, parseCommand } from '../../src/chat/commands.js';

describe('parseCommand', () => {
  it('reads every command with and without the bot name', () => {
    expect(parseCommand('assess service=a version=1')).toEqual({ kind: 'assess', args: 'service=a version=1' });
    expect(parseCommand('chaos assess service=a')).toEqual({ kind: 'assess', args: 'service=a' });
    expect(parseCommand('/chaos: Assess x=1')).toEqual({ kind: 'assess', args: 'x=1' });
    expect(parseCommand('status')).toEqual({ kind: 'status' });
    expect(parseCommand('status ctr-1 extra')).toEqual({ kind: 'status', contractId: 'ctr-1' });
    expect(parseCommand('history checkout')).toEqual({ kind: 'history', service: 'checkout' });
    expect(parseCommand('HISTORY')).toEqual({ kind: 'history' });
    for (const kind of ['start', 'rollback', 'pause', 'promote'] as const) {
      expect(parseCommand(`${kind} ctr-9`)).toEqual({ kind, contractId: 'ctr-9' });
    }
    expect(parseCommand('policy')).toEqual({ kind: 'policy' });
    expect(parseCommand('help!')).toEqual({ kind: 'help' });
    expect(parseCommand('  ')).toEqual({ kind: 'empty' });
    expect(parseCommand('chaos')).toEqual({ kind: 'empty' });
  });

  it('treats anything else as free text (a negotiation message in a contract thread)', () => {
    expect(parseCommand('can we start at 25%?')).toEqual({
      kind: 'text',
      text: 'can we start at 25%?',
      firstWord: 'can',
    });
    // A word that merely starts like a command is not one.
    expect(parseCommand('assessment please')).toMatchObject({ kind: 'text', firstWord: 'assessment' });
  });
});

describe('normaliseText', () => {
  it('turns Teams HTML and entities into plain text with line breaks', () => {
    expect(normaliseText('<p>assess&nbsp;service=a</p><p>version=&quot;1&quot;</p>')).toBe(
      'assess service=a\nversion="1"',
    );
    expect(normaliseText('a&#x41;&#66;&amp;&bogus;')).toBe('aAB&&bogus;');
    expect(normaliseText('service=“x y”')).toBe('service="x y"');
  });
});

describe('classifyAssessArgs', () => {
  it('recognises JSON (fenced or bare), pull request links and key=value pairs', () => {
    expect(classifyAssessArgs('```json\n{"a":1}\n```')).toEqual({ kind: 'json', text: '{"a":1}', from: 'message' });
    expect(classifyAssessArgs('{"a":1}')).toEqual({ kind: 'json', text: '{"a":1}', from: 'message' });
    expect(classifyAssessArgs('https://github.com/o/r/pull/12')).toEqual({
      kind: 'pull-request',
      url: 'https://github.com/o/r/pull/12',
    });
    expect(classifyAssessArgs('<https://ghe.example.com/o/r/pull/3>')).toEqual({
      kind: 'pull-request',
      url: 'https://ghe.example.com/o/r/pull/3',
    });
    expect(classifyAssessArgs('service=a version=1')).toEqual({ kind: 'key-value', text: 'service=a version=1' });
    expect(classifyAssessArgs('')).toEqual({ kind: 'none' });
  });
});
