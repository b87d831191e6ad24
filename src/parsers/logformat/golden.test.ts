import { describe, expect, it } from 'vitest';
import { context, goldenCases, plain, readCase, runParser } from '../../../test/support/golden.js';
import type { FormatSpec } from '../types.js';
import {
  apacheFormat,
  apacheVhostCombinedFormat,
  combinedFormat,
  commonFormat,
  nginxFormat,
  nginxMainFormat,
} from './index.js';

const SPECS: Record<string, FormatSpec> = {
  combined: combinedFormat,
  common: commonFormat,
  'nginx-main': nginxMainFormat,
  nginx: nginxFormat,
  apache: apacheFormat,
  'apache-combined-vhost': apacheVhostCombinedFormat,
};

const run = (name: string) => {
  const expected = JSON.parse(readCase(name, 'expected.json'));
  const spec = SPECS[expected.format];
  if (spec === undefined) throw new Error(`${name}: unknown format ${expected.format}`);
  const ctx = context(
    expected.logFormat === undefined ? {} : { logFormat: expected.logFormat },
    expected.options,
  );
  return { expected, got: runParser(spec.create(ctx), readCase(name, 'input.log')) };
};

describe('nginx / Apache log formats: golden files', () => {
  const cases = ['nginx-', 'apache-', 'combined-', 'common-'].flatMap((p) => goldenCases(p));

  it('has cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of cases) {
    it(name, () => {
      const { expected, got } = run(name);
      if (process.env.GOLDEN_WRITE) console.log(JSON.stringify(plain(got), null, 2));
      expect(plain(got.events)).toEqual(expected.events);
      expect(got.malformed).toEqual(expected.malformed);
    });
  }

  it('nginx-auth: tokens are 16-hex ids and no raw credential appears anywhere in the events', () => {
    const { got } = run('nginx-auth');
    const input = readCase('nginx-auth', 'input.log');
    // Every credential the input carries: the whole Authorization value after the scheme.
    const secrets = [...input.matchAll(/"(?:Bearer|Basic) ([^"]+)"/g)].map((m) => m[1]!);
    expect(secrets).toHaveLength(3);
    // The JWT's parts, the Basic password decoded, and the opaque key's distinctive tail too.
    const jwt = secrets[0]!;
    const pieces = [...secrets, ...jwt.split('.'), 's3cret', 'alice:s3cret', '4f9a8b7c6d5e4f3a2b1c0d9e'];
    for (const e of got.events) {
      if (e.token !== null) expect(e.token).toMatch(/^[0-9a-f]{16}$/);
      const json = JSON.stringify(e);
      for (const p of pieces) expect(json).not.toContain(p);
    }
    expect(got.events.filter((e) => e.token !== null)).toHaveLength(3);
  });

  it('nginx-auth: with header capture on, the Authorization header is kept only as a token marker', () => {
    const expected = JSON.parse(readCase('nginx-auth', 'expected.json'));
    const parser = nginxFormat.create(context({ logFormat: expected.logFormat }, { captureHeaders: true }));
    const got = runParser(parser, readCase('nginx-auth', 'input.log'));
    expect(got.events[0]!.requestHeaders).toEqual({
      authorization: 'Bearer [token:f28669490546a2b1]',
      'x-device-id': 'dev-7c1e9a',
    });
    expect(got.events[2]!.requestHeaders!.authorization).toBe('Bearer [token:ac250b84389df995]');
    expect(JSON.stringify(got.events)).not.toContain('sk_live_');
  });
});
