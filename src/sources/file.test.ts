import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource, InputError } from './file.js';
import { collect, records, slots } from './testing.js';
import type { ReadOptions } from './types.js';

const READ: ReadOptions = {
  framing: 'line',
  maxLineBytes: 64 * 1024,
  maxDocumentBytes: 1 << 20,
  sampleChars: 50,
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apiwarden-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, data: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

describe('FileSource', () => {
  it('reads plain files in the given order, with the path as input', async () => {
    const a = await write('a.log', 'a1\na2\n');
    const b = await write('b.log', 'b1\r\nb2');
    const src = new FileSource([a, b]);
    const s = slots(await collect(src.read(READ)));
    expect(s.map((x) => [x.input, x.position, x.record])).toEqual([
      [a, 1, 'a1'],
      [a, 2, 'a2'],
      [b, 1, 'b1'],
      [b, 2, 'b2'],
    ]);
    expect(await src.totalBytes()).toBe(12);
  });

  it('reads an empty file as nothing, without error', async () => {
    const e = await write('empty.log', '');
    const batches = await collect(new FileSource([e]).read(READ));
    expect(batches.filter((b) => b.records.length > 0 || b.rejects)).toEqual([]);
  });

  it('reads gzip, detected by magic bytes and not by extension', async () => {
    const text = Array.from({ length: 5000 }, (_, i) => `line ${i + 1} é`).join('\n');
    const gz = gzipSync(text);
    const named = await write('access.log.2.gz', gz);
    const disguised = await write('access.log.2', gz);
    const notGzip = await write('plain.gz', 'not\ncompressed\n');
    const expected = text.split('\n');
    const src = new FileSource([named, disguised, notGzip]);
    const batches = await collect(src.read(READ));
    expect(records(batches.filter((b) => b.input === named))).toEqual(expected);
    expect(records(batches.filter((b) => b.input === disguised))).toEqual(expected);
    expect(records(batches.filter((b) => b.input === notGzip))).toEqual(['not', 'compressed']);
    // Progress counts compressed bytes, matching totalBytes.
    const read = batches.reduce((n, b) => n + b.bytesRead, 0);
    expect(read).toBe(await src.totalBytes());
  });

  it('reads multi-member gzip (two gzip streams concatenated)', async () => {
    const path = await write('rotated.gz', Buffer.concat([gzipSync('one\ntwo\n'), gzipSync('three\nfour')]));
    expect(records(await collect(new FileSource([path]).read(READ)))).toEqual([
      'one',
      'two',
      'three',
      'four',
    ]);
  });

  it('keeps the lines of a truncated gzip file and rejects the rest as read_error', async () => {
    const gz = gzipSync(Array.from({ length: 20_000 }, (_, i) => `entry ${i}`).join('\n'));
    const path = await write('truncated.gz', gz.subarray(0, gz.length - 20));
    const s = slots(await collect(new FileSource([path]).read(READ)));
    const last = s[s.length - 1]!;
    expect(last.reject?.reason).toBe('read_error');
    expect(s.length).toBeGreaterThan(1);
    expect(s[0]!.record).toBe('entry 0');
  });

  it('reads a whole file as one document', async () => {
    const path = await write('x.har', '{"log":{"entries":[]}}\n');
    const s = slots(await collect(new FileSource([path]).read({ ...READ, framing: 'document' })));
    expect(s).toEqual([{ input: path, position: 1, record: '{"log":{"entries":[]}}\n' }]);
  });

  it('throws a one-line InputError for a missing file', async () => {
    const path = join(dir, 'nope.log');
    const err = await collect(new FileSource([path]).read(READ)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe(`cannot read '${path}': no such file`);
  });

  it('throws an InputError for a directory', async () => {
    const sub = join(dir, 'sub');
    await mkdir(sub);
    const err = await collect(new FileSource([sub]).read(READ)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe(`cannot read '${sub}': is a directory`);
  });

  it('stops when the signal is aborted', async () => {
    const path = await write('many.log', 'x\n'.repeat(100_000));
    const controller = new AbortController();
    let n = 0;
    for await (const b of new FileSource([path, path]).read({ ...READ, signal: controller.signal })) {
      n += b.records.length;
      controller.abort();
    }
    expect(n).toBeLessThan(200_000);
  });
});
