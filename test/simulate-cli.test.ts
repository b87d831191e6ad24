import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, cli } from './support/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-sim-'));
});

describe('apiwarden simulate', () => {
  it('writes every format, the route table, labels, truth and a summary; each file parses cleanly', async () => {
    const out = join(dir, 'all');
    const r = await bin([
      'simulate',
      '--out',
      out,
      '--hours',
      '3',
      '--users',
      '400',
      '--formats',
      'all',
      '--json',
      '--warmup',
      '1',
    ]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.requests).toBeGreaterThan(2_000);
    expect(Object.keys(summary.files).sort()).toEqual([
      'alb',
      'apisix',
      'cloudflare',
      'combined',
      'envoy',
      'kong',
      'traefik',
    ]);
    const truth = (await readFile(join(out, 'truth.csv'), 'utf8')).trimEnd().split('\n');
    expect(truth[0]).toBe('line,time,kind,actor,campaign,event,forged,route');
    expect(truth.length - 1).toBe(summary.requests);
    const routes = JSON.parse(await readFile(join(out, 'routes.json'), 'utf8'));
    expect(routes.length).toBeGreaterThanOrEqual(40);
    const labels = JSON.parse(await readFile(join(out, 'labels.json'), 'utf8'));
    expect(labels.requests).toBe(summary.requests);
    expect(labels.warmupEnd).toBe('2026-03-02T01:00:00.000Z');
    for (const [format, f] of Object.entries(summary.files) as [string, { path: string }][]) {
      const p = await cli(['parse', f.path, '--json', '--quarantine', 'none']);
      expect(p.code, format).toBe(0);
      const s = JSON.parse(p.stdout);
      expect([format, s.format, s.events, s.malformed]).toEqual([format, format, summary.requests, 0]);
    }
  });

  it('is byte-identical for the same seed and gzips on request', async () => {
    const args = ['--hours', '1', '--users', '200', '--attacks', 'scanner,burst', '--quiet'];
    const a = await cli(['simulate', '--out', join(dir, 'a'), ...args]);
    const b = await cli(['simulate', '--out', join(dir, 'b'), '--gzip', ...args]);
    expect([a.code, b.code, a.stdout]).toEqual([0, 0, '']);
    const plain = await readFile(join(dir, 'a', 'access.log'));
    expect(gunzipSync(await readFile(join(dir, 'b', 'access.log.gz'))).equals(plain)).toBe(true);
    const apisix = await readFile(join(dir, 'a', 'apisix.jsonl'));
    expect(gunzipSync(await readFile(join(dir, 'b', 'apisix.jsonl.gz'))).equals(apisix)).toBe(true);
    const labels = JSON.parse(await readFile(join(dir, 'a', 'labels.json'), 'utf8'));
    expect(labels.campaigns.map((c: { id: string }) => c.id)).toEqual(['burst', 'scanner']);
    expect((await stat(join(dir, 'a', 'kong.jsonl')).catch(() => null)) === null).toBe(true);
  });

  it('prints a human summary', async () => {
    const r = await cli([
      'simulate',
      '--out',
      join(dir, 'h'),
      '--hours',
      '1',
      '--users',
      '100',
      '--attacks',
      'none',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^simulated 1 h from 2026-03-02T00:00:00.000Z \(seed 1, 100 customers\): [\d,]+ requests/,
    );
    expect(r.stdout).toContain('attack traffic: 0.0% of requests');
  });

  it.each([
    [['--hours', 'x'], "--hours must be a number from 0.05 to 2160, got 'x'"],
    [['--users', '1.5'], "--users must be a whole number from 1 to 5000000, got '1.5'"],
    [
      ['--formats', 'combined,nope'],
      "--formats: unknown 'nope' (valid: combined, apisix, kong, envoy, traefik, cloudflare, alb, all, none)",
    ],
    [['--attacks', 'ddos'], "--attacks: unknown 'ddos'"],
    [['--start', 'yesterday'], "--start must be an ISO 8601 time like 2026-03-02T00:00:00Z, got 'yesterday'"],
    [['--warmup', '5', '--hours', '2'], "--warmup must be a number from 0 to 2, got '5'"],
  ])('rejects %j with a one-line error', async (args, message) => {
    const r = await cli(['simulate', '--out', join(dir, 'bad'), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('requires --out', async () => {
    const r = await cli(['simulate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '-o, --out <dir>' not specified");
  });
});
