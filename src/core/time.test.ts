import { describe, expect, it } from 'vitest';
import { cachedTimeParser, epochToMs, parseClfTime, parseEpochSeconds, parseIsoTime } from './time.js';

describe('time parsing', () => {
  it('parses CLF time with offsets', () => {
    expect(parseClfTime('10/Oct/2000:13:55:36 -0700')).toBe(Date.UTC(2000, 9, 10, 20, 55, 36));
    expect(parseClfTime('01/Jan/2024:00:00:00 +0800')).toBe(Date.UTC(2023, 11, 31, 16, 0, 0));
  });
  it('rejects malformed CLF time', () => {
    expect(parseClfTime('10/Foo/2000:13:55:36 -0700')).toBeNaN();
    expect(parseClfTime('10/Oct/2000:25:55:36 -0700')).toBeNaN();
    expect(parseClfTime('10/Oct/2000 13:55:36 -0700')).toBeNaN();
    expect(parseClfTime('')).toBeNaN();
    expect(parseClfTime('31/Feb/2024:13:55:36 -0700')).toBeNaN();
    expect(parseClfTime('31/Apr/2024:13:55:36 -0700')).toBeNaN();
    expect(parseClfTime('29/Feb/2024:13:55:36 +0000')).toBe(Date.UTC(2024, 1, 29, 13, 55, 36));
    expect(parseClfTime('10/Oct/2000:13x55x36 -0700')).toBeNaN();
  });
  it('parses ISO 8601 only', () => {
    expect(parseIsoTime('2024-03-05T10:11:12.345Z')).toBe(Date.UTC(2024, 2, 5, 10, 11, 12, 345));
    expect(parseIsoTime('2024-03-05T18:11:12+08:00')).toBe(Date.UTC(2024, 2, 5, 10, 11, 12));
    expect(parseIsoTime('May 5 2024')).toBeNaN();
    // No offset: UTC, whatever the process's time zone.
    expect(parseIsoTime('2024-03-05T10:11:12')).toBe(Date.UTC(2024, 2, 5, 10, 11, 12));
    expect(parseIsoTime('2024-03-05T10:11:12.5+0100')).toBe(Date.UTC(2024, 2, 5, 9, 11, 12, 500));
  });
  it('parses epochs of any unit', () => {
    expect(parseEpochSeconds('1700000000.123')).toBe(1700000000123);
    expect(parseEpochSeconds('abc')).toBeNaN();
    for (const bad of [' 12', '0x10', '1e3', '', '-5']) expect(parseEpochSeconds(bad)).toBeNaN();
    expect(epochToMs(1700000000)).toBe(1700000000000);
    expect(epochToMs(1700000000123)).toBe(1700000000123);
    expect(epochToMs(1700000000123456)).toBe(1700000000123);
    expect(epochToMs(1.7e18)).toBe(1700000000000);
    expect(epochToMs(-1)).toBeNaN();
  });
  it('caches the previous answer', () => {
    let calls = 0;
    const p = cachedTimeParser((s) => {
      calls++;
      return parseClfTime(s);
    });
    p('10/Oct/2000:13:55:36 -0700');
    p('10/Oct/2000:13:55:36 -0700');
    p('10/Oct/2000:13:55:37 -0700');
    expect(calls).toBe(2);
  });
});
