import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';

let dir: string;
let store: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-store-'));
  const sim = join(dir, 'sim');
  const r = await cli([
    'simulate',
    '--out',
    sim,
    '--hours',
    '3',
    '--users',
    '300',
    '--warmup',
    '0.5',
    '--attacks',
    'crawler,scanner',
    '--quiet',
  ]);
  expect(r.code).toBe(0);
  store = join(dir, 'store');
  const i = await cli([
    'ingest',
    join(sim, 'apisix.jsonl'),
    '--store',
    store,
    '--json',
    '--quarantine',
    'none',
  ]);
  expect(i.code).toBe(0);
  expect(JSON.parse(i.stdout)).toMatchObject({ files: 3 });
});

const rows = async (p: string) =>
  (await readFile(p, 'utf8'))
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          feature: string;
          key: string[];
          windowStart: string;
          events: number;
          value: number | null;
        },
    );

describe('ingest, query, features over the store', () => {
  it('answers ready questions and SQL, as table, CSV and JSON', async () => {
    const top = await cli(['query', '--store', store, '--top', 'ip', '--limit', '3', '--output', 'json']);
    expect(top.code).toBe(0);
    const t = top.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(t).toHaveLength(3);
    expect(Number(t[0].requests)).toBeGreaterThanOrEqual(Number(t[1].requests));
    const ip = t[0].ip as string;
    const tl = await cli([
      'query',
      '--store',
      store,
      '--actor',
      `ip:${ip}`,
      '--output',
      'csv',
      '--limit',
      '5',
    ]);
    expect(tl.stdout.split('\n')[0]).toBe(
      'time,ip,method,path,endpoint,scenario,status,latencyMs,bytesOut,userAgent',
    );
    expect(tl.stdout.trim().split('\n')).toHaveLength(6);
    const sql = await cli([
      'query',
      '--store',
      store,
      '--sql',
      "SELECT count(*) AS n FROM events WHERE scenario = 'static'",
    ]);
    expect(sql.stdout).toMatch(/^n\s*\n\d+\s*\n\(1 rows\)\n$/);
    // A value that would break a built query stays a value.
    const evil = await cli(['query', '--store', store, '--actor', "ip:1' OR '1'='1", '--output', 'json']);
    expect([evil.code, evil.stdout]).toEqual([0, '']);
  });

  it('the batch and stream engines give the same rows from the store', async () => {
    const b = join(dir, 'batch.jsonl');
    const s = join(dir, 'stream.jsonl');
    expect((await cli(['features', '--store', store, '--engine', 'batch', '--out', b, '--quiet'])).code).toBe(
      0,
    );
    expect((await cli(['features', '--store', store, '--out', s, '--quiet'])).code).toBe(0);
    const key = (r: { feature: string; key: string[]; windowStart: string }) =>
      `${r.feature}|${r.key.join(',')}|${r.windowStart}`;
    const bs = new Map((await rows(b)).map((r) => [key(r), r]));
    const ss = await rows(s);
    expect(ss.length).toBe(bs.size);
    for (const r of ss) {
      const o = bs.get(key(r))!;
      expect(o, key(r)).toBeDefined();
      expect(o.events).toBe(r.events);
      if (r.value === null || o.value === null) expect(o.value).toBe(r.value);
      else expect(Math.abs(o.value - r.value)).toBeLessThanOrEqual(0.01 * Math.max(1, Math.abs(o.value)));
    }
  });

  it('explains what is missing', async () => {
    expect((await cli(['query', '--store', join(dir, 'none'), '--top', 'ip'])).stderr).toContain(
      'no events in',
    );
    expect((await cli(['query', '--store', store])).stderr).toContain(
      'give exactly one of --sql, --actor, --endpoint, --top',
    );
    expect((await cli(['query', '--store', store, '--actor', 'mac:1'])).code).toBe(2);
    expect((await cli(['features', '--engine', 'batch', '--out', join(dir, 'x.jsonl')])).stderr).toContain(
      'give --store DIR',
    );
  });
});
