import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource, FollowSource, openSource, StdinSource } from './index.js';
import { collect, slots } from './testing.js';
import type { ReadOptions } from './types.js';

const READ: ReadOptions = { framing: 'line', maxLineBytes: 1024, maxDocumentBytes: 1024, sampleChars: 10 };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apiwarden-open-'));
  const files: Array<[string, string | Buffer, number]> = [
    ['access.log', 'c1\nc2\n', 3000],
    ['access.log.1', 'b1\n', 2000],
    ['access.log.2.gz', gzipSync('a1\na2\n'), 1000],
  ];
  for (const [name, data, mtime] of files) {
    await writeFile(join(dir, name), data);
    await utimes(join(dir, name), mtime, mtime);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openSource', () => {
  it('reads rotated files oldest first, gzip included', async () => {
    const r = await openSource([dir]);
    if (!r.ok) throw new Error(r.error);
    expect(r.source).toBeInstanceOf(FileSource);
    expect(r.source.name).toBe(dir);
    const s = slots(await collect(r.source.read(READ)));
    expect(s.map((x) => `${x.input.slice(dir.length + 1)}:${x.position}:${x.record}`)).toEqual([
      'access.log.2.gz:1:a1',
      'access.log.2.gz:2:a2',
      'access.log.1:1:b1',
      'access.log:1:c1',
      'access.log:2:c2',
    ]);
  });

  it('reads stdin for `-`', async () => {
    const r = await openSource(['-'], { stdin: Readable.from([Buffer.from('x\n')]) });
    if (!r.ok) throw new Error(r.error);
    expect(r.source).toBeInstanceOf(StdinSource);
    expect(slots(await collect(r.source.read(READ)))).toEqual([{ input: 'stdin', position: 1, record: 'x' }]);
  });

  it('returns errors as values', async () => {
    expect(await openSource([join(dir, 'missing.log')])).toEqual({
      ok: false,
      error: `cannot read '${join(dir, 'missing.log')}': no such file`,
    });
    expect(await openSource([join(dir, '*.json')])).toEqual({
      ok: false,
      error: `no files match '${join(dir, '*.json')}'`,
    });
    expect(await openSource(['-', join(dir, 'access.log')])).toEqual({
      ok: false,
      error: "'-' (stdin) cannot be mixed with other inputs",
    });
    expect(await openSource([])).toEqual({ ok: false, error: 'no input given' });
  });

  it('follows files, waiting for missing ones', async () => {
    const r = await openSource([join(dir, 'access.log'), join(dir, 'not-yet.log')], {
      follow: true,
      pollMs: 20,
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.source).toBeInstanceOf(FollowSource);
    expect(await r.source.totalBytes()).toBeUndefined();
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const b of r.source.read({ ...READ, signal: controller.signal })) {
      seen.push(...b.records);
      if (seen.length >= 2) controller.abort();
    }
    expect(seen).toEqual(['c1', 'c2']);
  });
});
