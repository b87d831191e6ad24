/**
 * StdinSource: reads process.stdin (or an injected stream, for tests). Gzip is detected by magic bytes,
 * so `zcat`-less `cat access.log.1.gz | apiwarden parse -` works.
 */
import type { Readable } from 'node:stream';
import { addAbortSignal } from 'node:stream';
import { maybeGunzip } from './gzip.js';
import { frameChunks } from './lines.js';
import type { ReadOptions, RecordBatch, Source } from './types.js';

export class StdinSource implements Source {
  readonly name = '-';

  constructor(private readonly stream: Readable = process.stdin) {}

  async totalBytes(): Promise<number | undefined> {
    return undefined;
  }

  /** A stream can be read once; a last line without newline is emitted at EOF. */
  async *read(options: ReadOptions): AsyncGenerator<RecordBatch> {
    if (options.signal) addAbortSignal(options.signal, this.stream);
    yield* frameChunks('stdin', maybeGunzip(this.stream), options);
  }
}
