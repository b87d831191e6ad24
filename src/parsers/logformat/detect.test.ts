import { describe, expect, it } from 'vitest';
import { readCase } from '../../../test/support/golden.js';
import type { FormatSpec } from '../types.js';
import {
  apacheFormat,
  apacheVhostCombinedFormat,
  combinedFormat,
  commonFormat,
  nginxFormat,
  nginxMainFormat,
} from './index.js';

/** The auto-detected presets, in the registry's order (a tie goes to the earlier). */
const PRESETS: FormatSpec[] = [nginxMainFormat, combinedFormat, apacheVhostCombinedFormat, commonFormat];

const scores = (sample: string): Record<string, number> =>
  Object.fromEntries(PRESETS.map((s) => [s.name, s.detect!(sample)]));
const winner = (sample: string): string => {
  let best = PRESETS[0]!;
  for (const s of PRESETS) if (s.detect!(sample) > best.detect!(sample)) best = s;
  return best.name;
};

const T = '[05/Mar/2024:10:11:12 +0000]';
const COMBINED_LINES = [
  `203.0.113.7 - - ${T} "GET /a HTTP/1.1" 200 12 "-" "curl/8.5.0"`,
  `2001:db8::1 - alice ${T} "POST /b?x=1 HTTP/1.1" 201 7 "https://example.com/" "Mozilla/5.0 \\x22q\\x22"`,
  `198.51.100.2 - - ${T} "GET /c HTTP/1.1" 304 - "-" "Mozilla/5.0 \\"q\\""`,
];
const COMMON_LINES = [
  `203.0.113.7 - - ${T} "GET /a HTTP/1.1" 200 12`,
  `2001:db8::1 - alice ${T} "POST /b?x=1 HTTP/1.1" 201 -`,
];
const MAIN_LINES = COMBINED_LINES.map((l, i) => `${l} "${i === 0 ? '-' : '198.51.100.9, 10.0.0.1'}"`);
const VHOST_LINES = [
  `www.example.com:443 203.0.113.7 - - ${T} "GET /a HTTP/1.1" 200 12 "-" "curl/8.5.0"`,
  `api.example.com:80 2001:db8::1 - - ${T} "GET /b HTTP/1.1" 404 9 "-" "Mozilla/5.0 [en]"`,
];
const text = (lines: string[]) => `${lines.join('\n')}\n`;

describe('detection of the nginx / Apache presets', () => {
  it('scores combined lines for combined only', () => {
    expect(scores(text(COMBINED_LINES))).toEqual({
      'nginx-main': 0,
      combined: 1,
      'apache-combined-vhost': 0,
      common: 0,
    });
  });

  it('scores common lines for common only (combined does not claim them, nor they combined)', () => {
    expect(scores(text(COMMON_LINES))).toEqual({
      'nginx-main': 0,
      combined: 0,
      'apache-combined-vhost': 0,
      common: 1,
    });
  });

  it('lets nginx-main win on main-format lines: combined rejects the extra field', () => {
    expect(scores(text(MAIN_LINES))).toEqual({
      'nginx-main': 1,
      combined: 0,
      'apache-combined-vhost': 0,
      common: 0,
    });
  });

  it('does not let combined claim vhost_combined lines', () => {
    expect(scores(text(VHOST_LINES))).toEqual({
      'nginx-main': 0,
      combined: 0,
      'apache-combined-vhost': 1,
      common: 0,
    });
  });

  it('picks the right preset for each golden input', () => {
    expect(winner(readCase('combined-basic', 'input.log'))).toBe('combined');
    expect(winner(readCase('combined-crlf', 'input.log'))).toBe('combined');
    expect(winner(readCase('common-basic', 'input.log'))).toBe('common');
    expect(winner(readCase('nginx-main', 'input.log'))).toBe('nginx-main');
    expect(winner(readCase('apache-vhost', 'input.log'))).toBe('apache-combined-vhost');
  });

  it('returns the fraction of lines that parse, over the first 50 non-blank lines', () => {
    const mixed = text([...COMBINED_LINES, 'garbage line', '', '  ', COMMON_LINES[0]!]);
    expect(combinedFormat.detect!(mixed)).toBe(3 / 5);
    const many = text([...Array(50).fill(COMBINED_LINES[0]), ...Array(30).fill('junk')]);
    expect(combinedFormat.detect!(many)).toBe(1);
  });

  it('does not count a cut-off last line against the format', () => {
    const cut = `${text(COMBINED_LINES)}${COMBINED_LINES[0]!.slice(0, 40)}`;
    expect(combinedFormat.detect!(cut)).toBe(1);
    // A complete bad last line still counts.
    expect(combinedFormat.detect!(`${text(COMBINED_LINES)}junk\n`)).toBe(3 / 4);
  });

  it('scores nothing on empty or foreign input', () => {
    expect(combinedFormat.detect!('')).toBe(0);
    expect(combinedFormat.detect!('{"ts":1,"status":200}\n')).toBe(0);
    expect(commonFormat.detect!('not a log\n')).toBe(0);
  });

  it('never auto-detects the custom formats', () => {
    for (const s of [nginxFormat, apacheFormat]) {
      expect(s.requires).toBe('logFormat');
      expect(s.detect).toBeUndefined();
    }
    for (const s of PRESETS) expect(s.requires).toBeUndefined();
  });
});
