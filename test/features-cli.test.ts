import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';

let dir: string;
let sim: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-feat-'));
  sim = join(dir, 'sim');
  const r = await cli([
    'simulate',
    '--out',
    sim,
    '--hours',
    '2',
    '--users',
    '300',
    '--warmup',
    '0.5',
    '--attacks',
    'crawler,burst',
    '--quiet',
  ]);
  expect(r.code).toBe(0);
});

describe('apiwarden features', () => {
  it('writes JSON lines of snapshots with the default set', async () => {
    const out = join(dir, 'f.jsonl');
    const r = await cli([
      'features',
      join(sim, 'access.log'),
      '--out',
      out,
      '--json',
      '--quarantine',
      'none',
    ]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ features: 22, late: 0, overflow: 0 });
    const rows = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.length).toBe(s.rows);
    // The burst: one address with more than 1,000 requests in a minute.
    const perMin = rows.filter((x) => x.feature === 'requests_per_min_by_ip');
    expect(Math.max(...perMin.map((x) => x.value))).toBeGreaterThan(1000);
    expect(perMin[0]).toMatchObject({ key: [expect.any(String)], windowStart: expect.stringMatching(/Z$/) });
  });

  it('writes Parquet with your specs', async () => {
    const specs = join(dir, 'specs.yaml');
    await writeFile(
      specs,
      'features:\n  - name: hits_by_ip\n    key: [ip]\n    window: { type: tumbling, sizeMs: 600000 }\n    agg: { fn: count }\n',
    );
    const out = join(dir, 'f.parquet');
    const r = await cli([
      'features',
      join(sim, 'apisix.jsonl'),
      '--out',
      out,
      '--specs',
      specs,
      '--quiet',
      '--quarantine',
      'none',
    ]);
    expect(r.code).toBe(0);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const res = await c.runAndReadAll(
      `SELECT count(*)::INTEGER, count(DISTINCT feature)::INTEGER, sum(events)::INTEGER FROM read_parquet('${out}')`,
    );
    const [rows, features, events] = res.getRows()[0] as number[];
    expect(features).toBe(1);
    expect(rows).toBeGreaterThan(10);
    const lines = (await readFile(join(sim, 'apisix.jsonl'), 'utf8')).trim().split('\n').length;
    expect(events).toBe(lines);
    c.closeSync();
  });

  it('names a bad spec field and asks for the store for the batch engine', async () => {
    const specs = join(dir, 'bad.yaml');
    await writeFile(
      specs,
      '- name: Bad\n  key: [ip]\n  window: { type: tumbling, sizeMs: 60000 }\n  agg: { fn: count }\n',
    );
    const r = await cli([
      'features',
      join(sim, 'access.log'),
      '--out',
      join(dir, 'x.jsonl'),
      '--specs',
      specs,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('features[0] (Bad).name: name must be snake_case');
    const b = await cli([
      'features',
      join(sim, 'access.log'),
      '--out',
      join(dir, 'x.jsonl'),
      '--engine',
      'batch',
    ]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--engine batch reads the event store: give --store DIR');
  });
});
