import { describe, expect, it } from 'vitest';
import { Normalizer } from '../../core/normalize.js';
import { isMalformed } from '../../core/result.js';
import {
  compileProgram,
  type FieldSpec,
  K_PEER,
  K_SKIP,
  K_STATUS,
  K_TIME_CLF,
  K_USER_AGENT,
  LogFormatParser,
  TimeFormat,
  type Token,
  unescapeBackslash,
  unescapeJson,
} from './program.js';

const needs = { time: 'T', status: 'S', address: 'A' };
const f = (kind: number, label: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  kind,
  name: '',
  label,
  ...extra,
});
/** `peer [time] status "ua"` and variations, compiled directly from tokens. */
const base = (): Token[] => [
  f(K_PEER, 'P'),
  ' [',
  f(K_TIME_CLF, 'T', { spaces: 1 }),
  '] ',
  f(K_STATUS, 'S'),
  ' "',
  f(K_USER_AGENT, 'U'),
  '"',
];

describe('unescapeBackslash (nginx default, Apache)', () => {
  it('returns the very same string when there is nothing to undo', () => {
    const s = 'Mozilla/5.0 (X11)';
    expect(unescapeBackslash(s)).toBe(s);
  });

  it('decodes runs of \\xHH as UTF-8 bytes, either case', () => {
    expect(unescapeBackslash('/caf\\xC3\\xA9')).toBe('/café');
    expect(unescapeBackslash('/\\xe4\\xb8\\xad\\xe6\\x96\\x87/x')).toBe('/中文/x');
    expect(unescapeBackslash('\\x22q\\x22 \\x5C')).toBe('"q" \\');
    expect(unescapeBackslash('a\\x1B[0m\\x7F')).toBe('a\x1b[0m\x7f');
  });

  it('turns invalid UTF-8 into U+FFFD and keeps the rest', () => {
    expect(unescapeBackslash('x\\xFFy')).toBe('x\uFFFDy');
    expect(unescapeBackslash('\\xC3(')).toBe('\uFFFD(');
  });

  it('undoes Apache escapes and keeps unknown or cut-off ones', () => {
    expect(unescapeBackslash('say \\"hi\\" C:\\\\dir\\n\\t\\r\\v\\b\\f')).toBe(
      'say "hi" C:\\dir\n\t\r\v\b\f',
    );
    expect(unescapeBackslash('\\\\x41')).toBe('\\x41');
    expect(unescapeBackslash('\\q \\xZZ \\x4')).toBe('\\q \\xZZ \\x4');
    expect(unescapeBackslash('end\\')).toBe('end\\');
  });
});

describe('unescapeJson (nginx escape=json)', () => {
  it('undoes JSON string escapes', () => {
    expect(unescapeJson('a\\"b\\\\c\\/d\\n\\t\\r\\b\\f')).toBe('a"b\\c/d\n\t\r\b\f');
    expect(unescapeJson('\\u00e9\\u001B \\ud83d\\ude00')).toBe('é\x1b 😀');
  });
  it('keeps invalid escapes as they are', () => {
    expect(unescapeJson('\\u12 \\x41 \\')).toBe('\\u12 \\x41 \\');
    const s = 'plain';
    expect(unescapeJson(s)).toBe(s);
  });
});

describe('compileProgram', () => {
  it('marks a field quoted when a quote is on both sides', () => {
    const p = compileProgram(base(), 'backslash', 'src', needs);
    expect(p.steps.map((s) => [s.lit, s.quoted, s.delim])).toEqual([
      ['', false, ' ['],
      [' [', false, '] '],
      ['] ', false, ' "'],
      [' "', true, ''],
      ['"', false, ''],
    ]);
  });

  it('with escape none, quotes are literal text and fields are never quoted', () => {
    const p = compileProgram(base(), 'none', 'src', needs);
    expect(p.steps[3]!.quoted).toBe(false);
    expect(p.steps[3]!.delim).toBe('"');
  });

  it('keeps only the best-ranked field of a slot; the others are consumed', () => {
    const t: Token[] = [
      f(K_PEER, 'A', { rank: 1 }),
      ' ',
      f(K_PEER, 'B', { rank: 0 }),
      ' ',
      ...base().slice(2),
    ];
    const p = compileProgram(t, 'backslash', 'src', needs);
    expect(p.steps.slice(0, 2).map((s) => [s.label, s.kind])).toEqual([
      ['A', K_SKIP],
      ['B', K_PEER],
    ]);
  });

  it('throws for adjacent fields without a width or lead, and for missing essentials', () => {
    expect(() =>
      compileProgram([f(K_PEER, 'A'), f(K_USER_AGENT, 'B'), ...base()], 'none', 's', needs),
    ).toThrow('A and B follow each other with nothing between them');
    expect(() => compileProgram([f(K_PEER, 'P'), ' ', f(K_STATUS, 'S')], 'none', 's', needs)).toThrow(
      /no time field \(T\)/,
    );
  });
});

describe('LogFormatParser', () => {
  const parser = (tokens: Token[], strict = false) =>
    new LogFormatParser('t', compileProgram(tokens, 'backslash', 's', needs), new Normalizer(), { strict });
  const line = '192.0.2.1 [05/Mar/2024:10:11:12 +0000] 200 "ua \\"x\\""';
  const origin = { source: 's', line: 1 };

  it('skips escaped quotes inside quoted fields', () => {
    const r = parser(base()).parseLine(line, origin);
    expect(isMalformed(r) ? r.detail : r.userAgent).toBe('ua "x"');
  });

  it('in strict (detection) mode, refuses spaces inside plain unquoted fields', () => {
    const spaced = '192.0.2.1 x [05/Mar/2024:10:11:12 +0000] 200 "ua"';
    expect(isMalformed(parser(base()).parseLine(spaced, origin))).toBe(false);
    const r = parser(base(), true).parseLine(spaced, origin);
    expect(isMalformed(r) && r.detail).toBe('P at column 1 contains a space');
    // The time's own space is allowed.
    expect(isMalformed(parser(base(), true).parseLine(line, origin))).toBe(false);
  });

  it('cuts nothing and fails cleanly on empty and short lines', () => {
    const p = parser(base());
    for (const l of ['', '192.0.2.1', '192.0.2.1 [', '192.0.2.1 [05/Mar/2024:10:11:12 +0000] 200 "ua']) {
      const r = p.parseLine(l, origin);
      expect(isMalformed(r) && r.reason).toBe('format_mismatch');
    }
  });
});

describe('TimeFormat', () => {
  it('knows the width of fixed-width formats and the spaces they contain', () => {
    const t = TimeFormat.compile('%d/%b/%Y %T');
    expect([t.width, t.spaces]).toEqual([20, 1]);
    expect(TimeFormat.compile('%d %B %Y').width).toBe(0);
    expect(TimeFormat.compile('%s').width).toBe(0);
    expect(() => TimeFormat.compile('%Y %')).toThrow(/lone %/);
  });
});
