import { describe, expect, it } from 'vitest';
import { CustomMatcher, patternProblem } from './custom.js';
import type { Span } from './detect.js';

describe('patternProblem', () => {
  it('accepts ordinary patterns', () => {
    for (const p of [
      '\\bEMP-\\d{6}\\b',
      '\\b\\d{4}(?:[- ]?\\d{4}){3}\\b',
      '(?<=member[:= ])\\d{8}',
      '[A-Z]{2}\\d{7}',
      '\\bcase#[a-z]{3}(\\d{3})\\b',
      '(?:-|\\s)?\\d{3}',
      '\\w+@corp\\.example',
      '[(a+)+]x',
    ])
      expect(patternProblem(p), p).toBe(null);
    expect(patternProblem('abc', 'imsu')).toBe(null);
  });

  it('names what is wrong and how to fix it', () => {
    expect(patternProblem('(')).toMatch(/^does not compile: .*; fix the JavaScript regular expression/);
    expect(patternProblem('x', 'g')).toMatch(/does not compile/);
    expect(patternProblem('(a+)+$')).toMatch(/repetition .*exponential.*character class/);
    // Repetitions of escapes and classes count too.
    expect(patternProblem('(\\d+)+x')).toMatch(/repetition/);
    expect(patternProblem('([a-z]+)*@')).toMatch(/repetition/);
    expect(patternProblem('(?:x[0-9]{2,})+y')).toMatch(/repetition/);
    expect(patternProblem('(\\w|\\d)*x')).toMatch(/alternation/);
    expect(patternProblem('(?:\\d{2,}-?){20}')).toMatch(/repetition/);
    expect(patternProblem('(a)\\1')).toMatch(/back-references/);
    expect(patternProblem('(?<id>\\d+)')).toMatch(/named groups/);
    expect(patternProblem('\\d*')).toMatch(/empty string/);
    expect(patternProblem('a'.repeat(1001))).toMatch(/longer than 1000/);
  });

  it('refuses patterns that are measurably slow on hostile probes', () => {
    // No nested repetition, but cubic backtracking on a run of digits.
    expect(patternProblem('\\d*\\d*\\d*\\d*x')).toMatch(/too slow/);
  });
});

describe('CustomMatcher', () => {
  it('runs all patterns as one alternation per flag set and maps matches back to their type', () => {
    const m = new CustomMatcher([
      { name: 'a', pattern: 'A(\\d)(\\d)' },
      { name: 'b', pattern: 'B\\d+' },
      { name: 'c', pattern: 'c\\d', flags: 'i' },
    ]);
    expect(m.size).toBe(2);
    const out: Span[] = [];
    m.scan('A12 B345 C6 A78', null, out, 100);
    expect(out.map((s) => [s.type, s.value])).toEqual([
      ['a', '1'],
      ['b', 'B345'],
      ['a', '7'],
      ['c', 'C6'],
    ]);
  });

  it('applies validators and context', () => {
    const m = new CustomMatcher([
      { name: 'acct', pattern: '\\b\\d{16}\\b', validator: 'luhn', context: ['Account'] },
    ]);
    const out: Span[] = [];
    const far = 'x'.repeat(60);
    m.scan(`account 4111111111111111 account 4111111111111112 ${far} 4242424242424242`, null, out, 100);
    expect(out.map((s) => s.value)).toEqual(['4111111111111111']);
    out.length = 0;
    m.scan('4242424242424242', 'customer_account', out, 100);
    expect(out.length).toBe(1);
  });

  it('throws for a type the config check would refuse', () => {
    expect(() => new CustomMatcher([{ name: 'x', pattern: '(a*)*' }])).toThrow(/custom sensitive type 'x'/);
  });
});
