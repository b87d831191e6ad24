/**
 * FileSource: one or more files read in the given order (expandInputs sorts them oldest first). Plain and
 * gzip files (detected by magic bytes) are both fine; each batch carries the path as `input`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import { inputError } from './errors.js';
import { maybeGunzip } from './gzip.js';
import { frameChunks } from './lines.js';
import type { ReadOptions, RecordBatch, Source } from './types.js';

export { InputError } from './errors.js';

/** Large reads: fewer syscalls and fewer, bigger batches. */
export const READ_CHUNK = 1024 * 1024;

export class FileSource implements Source {
  readonly name: string;

  constructor(
    readonly paths: readonly string[],
    name?: string,
  ) {
    this.name = name ?? paths.join(' ');
  }

  /** Sum of the file sizes (compressed size for gzip, matching `bytesRead`); unreadable files count 0. */
  async totalBytes(): Promise<number | undefined> {
    const sizes = await Promise.all(
      this.paths.map((p) =>
        stat(p).then(
          (s) => s.size,
          () => 0,
        ),
      ),
    );
    return sizes.reduce((a, b) => a + b, 0);
  }

  /** Throws InputError (one-line message) when a file cannot be opened or read at all. */
  async *read(options: ReadOptions): AsyncGenerator<RecordBatch> {
    for (const path of this.paths) {
      if (options.signal?.aborted) return;
      yield* readFile(path, options);
    }
  }
}

/** Frames one file (plain or gzip). */
export async function* readFile(path: string, options: ReadOptions): AsyncGenerator<RecordBatch> {
  // stat first: a directory opens fine on Linux and would only fail on the first read.
  const info = await stat(path).catch((err: unknown) => {
    throw inputError(path, err);
  });
  if (info.isDirectory()) throw inputError(path, { code: 'EISDIR' });
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK });
  if (options.signal) addAbortSignal(options.signal, stream);
  try {
    yield* frameChunks(path, maybeGunzip(stream), options);
  } finally {
    stream.destroy();
  }
}
