import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { SensitiveScanner } from './scanner.js';

describe('config: sensitive', () => {
  it('defaults to no custom types, nothing disabled, unkeyed hashes', () => {
    const r = parseConfig({});
    expect(r.ok && r.value.sensitive).toEqual({ custom: [], disabled: [], hashKey: null });
  });

  it('reads custom types and builds a scanner from them', () => {
    const r = parseConfig({
      sensitive: {
        custom: [
          { name: 'employee_id', pattern: '\\bEMP-(\\d{6})\\b', context: ['employee'] },
          { name: 'member_card', pattern: '\\b\\d{16}\\b', validator: 'luhn', flags: 'i' },
        ],
        disabled: ['ipv4', 'ipv6'],
        hashKey: '0123456789abcdef0123',
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const s = new SensitiveScanner(r.value.sensitive);
    expect(s.scanText('employee EMP-123456 from 203.0.113.9').map((f) => f.type)).toEqual(['employee_id']);
  });

  it('names the field and the fix for every kind of mistake', () => {
    const r = parseConfig({
      sensitive: {
        custom: [
          { name: 'bad_regex', pattern: '(' },
          { name: 'slow', pattern: '(\\d+)+x' },
          { name: 'Employee ID', pattern: 'x' },
          { name: 'email', pattern: 'x' },
          { name: 'dup', pattern: 'a' },
          { name: 'flawed', pattern: 'b', validator: 'crc32', flags: 'gx', context: [] },
          { name: 'extra', pattern: 'c', regex: 'c' },
        ],
        disabled: ['ip'],
        hashKey: 'short',
      },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const e = r.error;
    const has = (re: RegExp) =>
      expect(
        e.some((m) => re.test(m)),
        `${re}\n${e.join('\n')}`,
      ).toBe(true);
    has(
      /^sensitive\.custom\[0\]\.pattern: does not compile: .*Unterminated group.*; fix the JavaScript regular expression/,
    );
    has(/^sensitive\.custom\[1\]\.pattern: a repeated group contains a repetition .*exponential/);
    has(/^sensitive\.custom\[2\]\.name: expected a type name of lower-case letters/);
    has(/^sensitive\.custom\[3\]\.name: is the name of a built-in type; choose another name/);
    has(/^sensitive\.custom\[5\]\.validator: expected one of luhn, mod97/);
    has(/^sensitive\.custom\[5\]\.flags: expected RegExp flags among i, m, s, u/);
    has(/^sensitive\.custom\[5\]\.context: expected at least one keyword/);
    has(
      /^unknown key 'regex' in sensitive\.custom\[6\] \(valid: name, pattern, validator, context, flags\)$/,
    );
    has(/^sensitive\.disabled\[0\]: expected a built-in type: email, phone, /);
    has(/^sensitive\.hashKey: expected at least 16 characters/);
  });

  it('refuses two custom types with the same name', () => {
    const r = parseConfig({
      sensitive: {
        custom: [
          { name: 'dup', pattern: 'a' },
          { name: 'dup', pattern: 'b' },
        ],
      },
    });
    expect(!r.ok && r.error).toEqual([
      "sensitive.custom[1].name: 'dup' is defined twice; give each custom type its own name",
    ]);
  });

  it('lists sensitive among the valid top-level keys', () => {
    const r = parseConfig({ sensitiv: {} });
    expect(!r.ok && r.error).toEqual([
      "unknown key 'sensitiv' (valid: input, events, quarantine, sensitive, intel, detection, response, notifications)",
    ]);
  });
});
