import { describe, expect, it } from 'vitest';
import { InputError } from './errors.js';
import { DocumentFramer, frameChunks, LineFramer, sampleOf } from './lines.js';
import { chunksOf, collect, records, slots } from './testing.js';
import type { ReadOptions, RecordBatch } from './types.js';

const OPTS = { maxLineBytes: 1000, sampleChars: 16 };

/** Frames `data` pushed in chunks of `size` bytes. */
function frame(data: string | Uint8Array, size = 1 << 20, emitPartial = true, opts = OPTS): RecordBatch[] {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const framer = new LineFramer('t', opts);
  const out: RecordBatch[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(...framer.push(buf.subarray(i, i + size)));
  out.push(...framer.end(emitPartial));
  return out;
}

function totalBytes(batches: RecordBatch[]): number {
  return batches.reduce((n, b) => n + b.bytesRead, 0);
}

describe('LineFramer', () => {
  it('splits lines with 1-based contiguous positions', () => {
    const batches = frame('a\nbb\nccc\n');
    expect(slots(batches).map((s) => [s.position, s.record])).toEqual([
      [1, 'a'],
      [2, 'bb'],
      [3, 'ccc'],
    ]);
    expect(totalBytes(batches)).toBe(9);
  });

  it('strips one trailing \\r (CRLF)', () => {
    expect(records(frame('a\r\nb\r\n\r\nc\r\r\n'))).toEqual(['a', 'b', '', 'c\r']);
    expect(records(frame('a\r\nb\r\n\r\nc\r\r\n', 1))).toEqual(['a', 'b', '', 'c\r']);
  });

  it('keeps blank lines so numbering stays contiguous', () => {
    const s = slots(frame('\na\n\n\nb\n'));
    expect(s.map((x) => [x.position, x.record])).toEqual([
      [1, ''],
      [2, 'a'],
      [3, ''],
      [4, ''],
      [5, 'b'],
    ]);
  });

  it('emits a last line without newline at the end, or waits for it', () => {
    expect(records(frame('a\nb'))).toEqual(['a', 'b']);
    expect(records(frame('a\nb', 1))).toEqual(['a', 'b']);
    expect(records(frame('a\nb', 1 << 20, false))).toEqual(['a']);
    expect(records(frame('a\r'))).toEqual(['a']);
  });

  it('gives nothing for empty input', () => {
    const batches = frame('');
    expect(batches.every((b) => b.records.length === 0 && !b.rejects)).toBe(true);
    expect(records(frame('\n'))).toEqual(['']);
  });

  it('decodes multi-byte UTF-8 split across 1-byte chunks', () => {
    const text = 'héllo wörld\r\n€ 100\n😀 emoji\n日本語のログ\nlast 𝄞';
    const expected = ['héllo wörld', '€ 100', '😀 emoji', '日本語のログ', 'last 𝄞'];
    expect(records(frame(text))).toEqual(expected);
    for (const size of [1, 2, 3, 5, 7]) expect(records(frame(text, size))).toEqual(expected);
    expect(totalBytes(frame(text, 1))).toBe(Buffer.byteLength(text));
  });

  it('replaces invalid bytes with U+FFFD the same way whatever the chunking', () => {
    const bytes = Buffer.from([0x61, 0xff, 0x62, 0x0a, 0xe2, 0x82, 0x0a, 0xf0, 0x9f, 0x98, 0x0a, 0xc3]);
    const whole = records(frame(bytes));
    expect(whole).toEqual(['a\ufffdb', '\ufffd', '\ufffd', '\ufffd']);
    for (const size of [1, 2, 3]) expect(records(frame(bytes, size))).toEqual(whole);
  });

  it('strips a BOM at the start of the input only', () => {
    const text = '\ufeffa\n\ufeffb\n';
    expect(records(frame(text))).toEqual(['a', '\ufeffb']);
    expect(records(frame(text, 1))).toEqual(['a', '\ufeffb']);
    expect(records(frame('\ufeff'))).toEqual(['']);
  });

  it('caps batch size and keeps positions across batches', () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `line ${i + 1}`).join('\n');
    const batches = frame(text, 64 * 1024);
    expect(batches.every((b) => b.records.length <= 4096)).toBe(true);
    const s = slots(batches);
    expect(s).toHaveLength(10_000);
    expect(s.every((x) => x.record === `line ${x.position}`)).toBe(true);
    expect(totalBytes(batches)).toBe(Buffer.byteLength(text));
  });

  it('rejects a 50 MB line without buffering it, and keeps the following numbers', () => {
    const limit = 64 * 1024;
    const long = 50 * 1024 * 1024;
    const head = Buffer.from('first\n');
    const tail = Buffer.from('\r\nafter one\nafter two\n');
    const framer = new LineFramer('big', { maxLineBytes: limit, sampleChars: 200 });
    const out: RecordBatch[] = [];
    const chunk = Buffer.alloc(limit, 'a');
    let maxCarried = 0;
    out.push(...framer.push(head));
    for (let sent = 0; sent < long; sent += chunk.length) {
      out.push(...framer.push(chunk.subarray(0, Math.min(chunk.length, long - sent))));
      maxCarried = Math.max(maxCarried, framer.carriedChars);
    }
    out.push(...framer.push(tail));
    out.push(...framer.end());

    // Never more than the limit plus one chunk held for the line.
    expect(maxCarried).toBeLessThanOrEqual(2 * limit + 1);
    const s = slots(out);
    expect(s.map((x) => [x.position, x.record ?? x.reject?.reason])).toEqual([
      [1, 'first'],
      [2, 'line_too_long'],
      [3, 'after one'],
      [4, 'after two'],
    ]);
    const reject = s[1]!.reject!;
    expect(reject.bytes).toBe(long);
    expect(reject.sample).toBe('a'.repeat(200));
    expect(totalBytes(out)).toBe(head.length + long + tail.length);
  });

  it('rejects over-long lines found inside one chunk, with their byte size', () => {
    const text = `ok\n${'é'.repeat(20)}\r\nok2\n${'x'.repeat(30)}\nlast\n`;
    for (const size of [1 << 20, 1, 4]) {
      const s = slots(frame(text, size, true, { maxLineBytes: 10, sampleChars: 4 }));
      expect(s.map((x) => [x.position, x.record ?? x.reject?.reason])).toEqual([
        [1, 'ok'],
        [2, 'line_too_long'],
        [3, 'ok2'],
        [4, 'line_too_long'],
        [5, 'last'],
      ]);
      expect(s[1]!.reject).toMatchObject({ sample: 'éééé', bytes: 40 });
      expect(s[3]!.reject).toMatchObject({ sample: 'xxxx', bytes: 30 });
    }
  });

  it('counts the limit in UTF-16 code units after removing \\r', () => {
    const opts = { maxLineBytes: 3, sampleChars: 2 };
    expect(records(frame('abc\r\néèà\n', 1 << 20, true, opts))).toEqual(['abc', 'éèà']);
    expect(records(frame('abc\r\néèà\n', 1, true, opts))).toEqual(['abc', 'éèà']);
    expect(slots(frame('abcd\n', 1, true, opts))[0]!.reject?.reason).toBe('line_too_long');
  });

  it('puts each reject at the end of its batch', () => {
    const batches = frame('a\nxxxxxxxxxxxxxxxx\nb\nyyyyyyyyyyyyyyyyyy', 1 << 20, true, {
      maxLineBytes: 4,
      sampleChars: 2,
    });
    for (const b of batches) {
      for (const r of b.rejects ?? []) expect(r.position).toBe(b.first + b.records.length);
    }
    expect(slots(batches).map((x) => x.position)).toEqual([1, 2, 3, 4]);
  });

  it('turns a mid-stream failure into a read_error reject at the next position', () => {
    const framer = new LineFramer('t', OPTS);
    const out = [...framer.push(Buffer.from('a\nb\npart')), ...framer.fail()];
    expect(slots(out).map((x) => [x.position, x.record ?? x.reject?.reason, x.reject?.sample])).toEqual([
      [1, 'a', undefined],
      [2, 'b', undefined],
      [3, 'read_error', 'part'],
    ]);
  });
});

describe('sampleOf', () => {
  it('does not cut a surrogate pair', () => {
    expect(sampleOf('ab😀c', 3)).toBe('ab');
    expect(sampleOf('ab😀c', 4)).toBe('ab😀');
  });
});

describe('DocumentFramer', () => {
  const opts = { maxDocumentBytes: 100, sampleChars: 5 };

  it('makes the whole input one record at position 1', () => {
    const f = new DocumentFramer('h.har', opts);
    const out = [...f.push(Buffer.from('\ufeff{"log":')), ...f.push(Buffer.from('\n{}}')), ...f.end()];
    expect(slots(out)).toEqual([{ input: 'h.har', position: 1, record: '{"log":\n{}}' }]);
    expect(totalBytes(out)).toBe(Buffer.byteLength('\ufeff{"log":\n{}}'));
  });

  it('rejects a document over the limit without keeping it', () => {
    const f = new DocumentFramer('big.har', opts);
    const out: RecordBatch[] = [];
    for (let i = 0; i < 50; i++) out.push(...f.push(Buffer.from('0123456789')));
    out.push(...f.end());
    expect(slots(out)).toEqual([
      {
        input: 'big.har',
        position: 1,
        reject: { position: 1, reason: 'document_too_large', sample: '01234', bytes: 500 },
      },
    ]);
  });

  it('gives no record for empty input', () => {
    expect(slots(new DocumentFramer('e', opts).end())).toEqual([]);
  });
});

describe('frameChunks', () => {
  const read: ReadOptions = { framing: 'line', maxLineBytes: 100, maxDocumentBytes: 100, sampleChars: 10 };

  it('frames an async iterable of chunks', async () => {
    const batches = await collect(frameChunks('x', chunksOf(Buffer.from('a\nb\nc'), 2), read));
    expect(records(batches)).toEqual(['a', 'b', 'c']);
  });

  it('throws an InputError when the input fails before any data', async () => {
    // biome-ignore lint/correctness/useYield: fails before yielding, on purpose
    async function* failing(): AsyncGenerator<Uint8Array> {
      throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
    }
    const err = await collect(frameChunks('gone.log', failing(), read)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ message: "cannot read 'gone.log': no such file", code: 'ENOENT' });
  });

  it('keeps what was read when the input fails mid-stream', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('a\nb');
      throw new Error('unexpected end of file');
    }
    const s = slots(await collect(frameChunks('t.gz', failing(), read)));
    expect(s.map((x) => [x.position, x.record ?? x.reject?.reason])).toEqual([
      [1, 'a'],
      [2, 'read_error'],
    ]);
    expect(s[1]!.reject?.sample).toBe('b');
  });
});
