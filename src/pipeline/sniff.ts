/** Reading the first bytes of an input (decompressed) for format auto-detection, without consuming it. */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export const SNIFF_BYTES = 64 * 1024;

export interface Sniffed {
  text: string;
  /** True when the input is longer than the sample (its last line may be cut). */
  truncated: boolean;
}

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Decompresses the start of a gzip stream, up to `limit` bytes of output. */
async function gunzipPrefix(compressed: Uint8Array, limit: number): Promise<Sniffed> {
  return new Promise((resolve) => {
    const z = createGunzip();
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (truncated: boolean) => {
      if (done) return;
      done = true;
      z.destroy();
      resolve({ text: Buffer.concat(parts).subarray(0, limit).toString('utf8'), truncated });
    };
    z.on('data', (b: Buffer) => {
      parts.push(b);
      size += b.length;
      if (size >= limit) finish(true);
    });
    // A prefix of a gzip file ends early: that is expected, what was inflated so far is the sample.
    z.on('error', () => finish(true));
    z.on('end', () => finish(false));
    z.end(compressed);
  });
}

/** The first SNIFF_BYTES of a file, gunzipped when it is gzip. */
export async function sniffFile(path: string): Promise<Sniffed> {
  const fh = await open(path, 'r');
  try {
    // Compressed logs inflate 5-20x: read enough compressed bytes to fill the sample.
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    const head = buf.subarray(0, bytesRead);
    if (isGzip(head)) return gunzipPrefix(head, SNIFF_BYTES);
    const size = (await fh.stat()).size;
    return { text: head.toString('utf8'), truncated: size > bytesRead };
  } finally {
    await fh.close();
  }
}

/**
 * The first bytes of a stream (stdin), and a stream that replays them followed by the rest, so the input is
 * still read from its start. Waits for up to SNIFF_BYTES or the end of the stream.
 */
export async function sniffStream(stream: Readable): Promise<{ sniffed: Sniffed; stream: Readable }> {
  const parts: Buffer[] = [];
  let size = 0;
  let ended = false;
  await new Promise<void>((resolve, reject) => {
    const onReadable = () => {
      while (size < SNIFF_BYTES) {
        const chunk = stream.read() as Buffer | null;
        if (chunk === null) break;
        parts.push(chunk);
        size += chunk.length;
      }
      if (size >= SNIFF_BYTES) done();
    };
    const onEnd = () => {
      ended = true;
      done();
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const done = () => {
      cleanup();
      resolve();
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
  const head = Buffer.concat(parts);
  const replay = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      if (!ended) yield* stream;
    })(),
    { objectMode: false },
  );
  const sniffed = isGzip(head)
    ? await gunzipPrefix(head, SNIFF_BYTES)
    : {
        text: head.subarray(0, SNIFF_BYTES).toString('utf8'),
        truncated: !ended || head.length > SNIFF_BYTES,
      };
  return { sniffed, stream: replay };
}
