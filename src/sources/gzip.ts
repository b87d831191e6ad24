/**
 * Transparent gzip: detected by the magic bytes 1f 8b (never by extension), decompressed as a stream.
 * Multi-member files (logrotate `delaycompress` + concatenation, `cat a.gz b.gz`) decode as one stream.
 */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Chunk } from './lines.js';

const EMPTY = new Uint8Array(0);

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Yields the decoded bytes of `raw`, gunzipped when it starts with the gzip magic. `sourceBytes` counts raw
 * (compressed) bytes, so progress matches file sizes.
 */
export async function* maybeGunzip(raw: AsyncIterable<Uint8Array>): AsyncGenerator<Chunk> {
  const it = raw[Symbol.asyncIterator]();
  // Gather at least two bytes to decide (a stream may deliver one byte at a time).
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  try {
    while (headBytes < 2) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value);
      headBytes += r.value.byteLength;
    }
  } catch (err) {
    await it.return?.();
    throw err;
  }
  const first = head.length === 1 ? head[0]! : Buffer.concat(head);

  if (!isGzip(first)) {
    try {
      if (headBytes > 0) yield { data: first, sourceBytes: headBytes };
      while (!ended) {
        const r = await it.next();
        if (r.done) break;
        yield { data: r.value, sourceBytes: r.value.byteLength };
      }
    } finally {
      await it.return?.();
    }
    return;
  }

  let consumed = 0;
  let reported = 0;
  async function* compressed(): AsyncGenerator<Uint8Array> {
    try {
      consumed += first.byteLength;
      yield first;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        consumed += r.value.byteLength;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  // Errors of either side surface through the gunzip iterator below.
  pipeline(Readable.from(compressed(), { objectMode: false }), gunzip, () => {});
  try {
    for await (const data of gunzip as AsyncIterable<Buffer>) {
      yield { data, sourceBytes: consumed - reported };
      reported = consumed;
    }
    // The trailer and any input that produced no output still count as read.
    if (consumed > reported) yield { data: EMPTY, sourceBytes: consumed - reported };
  } finally {
    gunzip.destroy();
  }
}
