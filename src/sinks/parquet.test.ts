import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../core/event.js';
import { JsonlSink } from './jsonl.js';
import { ParquetSink } from './parquet.js';

const event = (i: number): ApiEvent => ({
  ts: 1_700_000_000_000 + i,
  ip: i % 2 ? '2001:db8::1' : '198.51.100.7',
  method: 'GET',
  host: 'api.example.com',
  path: `/api/v1/items/${i}`,
  query: i === 0 ? Object.assign(Object.create(null), { q: ['a', "b'c"], x: '1' }) : null,
  status: 200,
  bytesOut: 512,
  bytesIn: null,
  latencyMs: 12.5,
  userAgent: 'Mozilla/5.0 "quoted"',
  referer: null,
  token: i === 1 ? '0123456789abcdef' : null,
  user: null,
  device: null,
  protocol: 'HTTP/1.1',
  origin: { source: "it's.log", line: i + 1 },
});

async function readParquet(path: string) {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  const r = await conn.runAndReadAll(
    `SELECT * FROM read_parquet('${path.replaceAll("'", "''")}') ORDER BY ts`,
  );
  const rows = r.getRowObjectsJson();
  conn.closeSync();
  inst.closeSync();
  return rows;
}

describe('sinks', () => {
  it('writes JSON lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aw-sink-'));
    const sink = new JsonlSink(join(dir, 'e.jsonl'));
    await sink.write([event(0), event(1)]);
    await sink.close();
    const lines = (await readFile(join(dir, 'e.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(JSON.parse(JSON.stringify([event(0), event(1)])));
  });

  it('writes Parquet that DuckDB reads back with the event schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aw-sink-'));
    const path = join(dir, "out'x.parquet");
    const sink = new ParquetSink(path);
    await sink.write([event(0), event(1)]);
    await sink.write([event(2)]);
    await sink.close();
    const rows = await readParquet(path);
    expect(rows).toHaveLength(3);
    expect(rows[0]!.time).toBe('2023-11-14 22:13:20');
    expect(rows[0]!.ts).toBe('1700000000000');
    expect(JSON.parse(rows[0]!.query as string)).toEqual({ q: ['a', "b'c"], x: '1' });
    expect(rows[1]!.ip).toBe('2001:db8::1');
    expect(rows[1]!.token).toBe('0123456789abcdef');
    expect(rows[2]!.origin).toEqual({ source: "it's.log", line: '3' });
    expect(rows[2]!.latencyMs).toBe(12.5);
    expect(rows[2]!.userAgent).toBe('Mozilla/5.0 "quoted"');
  });

  it('writes an empty Parquet file with the schema when there are no events', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aw-sink-'));
    const sink = new ParquetSink(join(dir, 'empty.parquet'));
    await sink.close();
    expect(await readParquet(join(dir, 'empty.parquet'))).toEqual([]);
  });
});
