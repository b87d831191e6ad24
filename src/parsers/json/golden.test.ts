import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { context, goldenCases, plain, readCase, runParser, TESTDATA } from '../../../test/support/golden.js';
import type { FormatSpec } from '../types.js';
import {
  apisixFormat,
  cloudflareFormat,
  envoyFormat,
  jsonMappingFormat,
  kongFormat,
  traefikFormat,
} from './index.js';

const SPECS: Record<string, FormatSpec> = {
  apisix: apisixFormat,
  kong: kongFormat,
  envoy: envoyFormat,
  traefik: traefikFormat,
  cloudflare: cloudflareFormat,
  json: jsonMappingFormat,
};

describe('JSON presets: golden files', () => {
  for (const prefix of Object.keys(SPECS)) {
    for (const name of goldenCases(`${prefix}-`)) {
      it(name, () => {
        const expected = JSON.parse(readCase(name, 'expected.json'));
        const input = readdirSync(join(TESTDATA, 'parsers', name)).find((f) => f !== 'expected.json')!;
        const spec = SPECS[expected.format]!;
        const parser = spec.create(context({ jsonMapping: expected.mapping }, expected.options ?? {}));
        const got = runParser(parser, readCase(name, input));
        if (process.env.GOLDEN_WRITE) console.log(JSON.stringify(plain(got), null, 2));
        expect(plain(got.events)).toEqual(expected.events);
        expect(got.malformed).toEqual(expected.malformed);
      });
    }
  }
});
