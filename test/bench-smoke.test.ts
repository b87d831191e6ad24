/**
 * Keeps the parse benchmark runnable: a tiny run of the built bench (built by `pretest`) must print one
 * valid JSON report in which every generated line parsed. No timing is asserted: speed lives in bench/.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

const run = promisify(execFile);

describe('bench/parse', () => {
  it('prints a JSON report where every generated line of every format parses', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(ROOT, 'dist', 'bench', 'parse.js'), '--lines', '5000', '--repeat', '1', '--no-e2e'],
      { cwd: ROOT, maxBuffer: 16 << 20 },
    );
    const report = JSON.parse(stdout) as {
      formats: Record<string, { events: number; malformed: number; linesPerSec: number }>;
    };
    const names = Object.keys(report.formats).sort();
    expect(names).toEqual(['alb', 'apisix', 'cloudflare', 'combined', 'envoy', 'kong', 'traefik']);
    for (const name of names) {
      expect(report.formats[name]!.malformed, name).toBe(0);
      expect(report.formats[name]!.events, name).toBe(5000);
      expect(report.formats[name]!.linesPerSec, name).toBeGreaterThan(0);
    }
  }, 120_000);
});
