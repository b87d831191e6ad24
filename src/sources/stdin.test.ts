import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { StdinSource } from './stdin.js';
import { collect, records, slots } from './testing.js';
import type { ReadOptions } from './types.js';

const READ: ReadOptions = { framing: 'line', maxLineBytes: 1024, maxDocumentBytes: 1024, sampleChars: 10 };

describe('StdinSource', () => {
  it('reads lines from a stream as input `stdin`', async () => {
    const src = new StdinSource(Readable.from([Buffer.from('a\nb'), Buffer.from('c\n')]));
    expect(src.name).toBe('-');
    expect(await src.totalBytes()).toBeUndefined();
    const s = slots(await collect(src.read(READ)));
    expect(s.map((x) => [x.input, x.position, x.record])).toEqual([
      ['stdin', 1, 'a'],
      ['stdin', 2, 'bc'],
    ]);
  });

  it('detects gzip by magic bytes even when they arrive one byte at a time', async () => {
    const gz = gzipSync('x\ny\nz');
    const bytes = Array.from(gz, (b) => Buffer.from([b]));
    const src = new StdinSource(Readable.from(bytes));
    expect(records(await collect(src.read(READ)))).toEqual(['x', 'y', 'z']);
  });

  it('reads a single-byte stream', async () => {
    expect(records(await collect(new StdinSource(Readable.from([Buffer.from('q')])).read(READ)))).toEqual([
      'q',
    ]);
  });

  it('ends when aborted while waiting for data', async () => {
    const stream = new PassThrough();
    const controller = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const b of new StdinSource(stream).read({ ...READ, signal: controller.signal })) {
        seen.push(...b.records);
      }
    })();
    stream.write('first\n');
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await done;
    expect(seen).toEqual(['first']);
  });
});
