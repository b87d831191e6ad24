/**
 * Framing: turns byte chunks into RecordBatches. This is the hot path of every source.
 *
 * Line framing decodes each chunk up to its last `\n` in one `toString` call and splits it, so the per-line
 * cost is one `split` slot; only the bytes after the last newline are carried (decoded by a streaming
 * TextDecoder so a multi-byte character split across chunks survives).
 *
 * Batch scheme: a batch's records are contiguous from `first`; a reject always ends its batch and sits at
 * `first + records.length` (at most one reject per batch). So every position appears exactly once, in order.
 */
import { inputError } from './errors.js';
import type { FrameReject, ReadOptions, RecordBatch } from './types.js';

export interface LineFramerOptions {
  /** Lines longer than this (UTF-16 code units, after removing `\r`) are rejected as `line_too_long`. */
  maxLineBytes: number;
  /** Characters of an over-long line kept as the reject's sample. */
  sampleChars: number;
  /** Most records per batch (default 4096). */
  batchLines?: number;
}

export interface DocumentFramerOptions {
  maxDocumentBytes: number;
  sampleChars: number;
}

/** A chunk of decoded bytes and how many source bytes it cost (differs for gzip). */
export interface Chunk {
  data: Uint8Array;
  sourceBytes: number;
}

const NL = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;
const DEFAULT_BATCH_LINES = 4096;

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The first `n` characters, without a dangling high surrogate. */
export function sampleOf(text: string, n: number): string {
  if (text.length <= n) return text;
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === BOM ? text.slice(1) : text;
}

/**
 * Push-based line framer for one input (one file generation). `push` and `end` return the batches that
 * became complete; nothing is retained from a pushed chunk, so callers may reuse their read buffer.
 */
export class LineFramer {
  private readonly max: number;
  private readonly sampleChars: number;
  private readonly batchLines: number;

  /** Position of `records[0]` of the batch being built. */
  private first = 1;
  private records: string[] = [];
  private out: RecordBatch[] = [];
  /** Source bytes consumed and not yet reported in a batch. */
  private pendingBytes = 0;

  /** Decoded start of the unfinished line, and its byte length (0 = none). */
  private partial = '';
  private partialBytes = 0;
  /** Strips a BOM at the start of the stream; replaced by a BOM-keeping decoder after its first flush. */
  private decoder = new TextDecoder('utf-8');
  /** No byte decoded yet: a leading BOM is still to be removed from the fast path. */
  private fresh = true;

  /** Skipping the rest of an over-long line: its sample, bytes so far, and last byte (to not count a `\r`). */
  private skipping = false;
  private skipSample = '';
  private skipBytes = 0;
  private skipLast = 0;

  constructor(
    readonly input: string,
    options: LineFramerOptions,
  ) {
    this.max = options.maxLineBytes;
    this.sampleChars = options.sampleChars;
    this.batchLines = Math.max(1, options.batchLines ?? DEFAULT_BATCH_LINES);
  }

  /** Characters held for the unfinished line: stays below about `maxLineBytes` + one chunk. */
  get carriedChars(): number {
    return this.partial.length + this.skipSample.length;
  }

  /** Position the next line will get. */
  get nextPosition(): number {
    return this.first + this.records.length;
  }

  push(chunk: Uint8Array, sourceBytes: number = chunk.byteLength): RecordBatch[] {
    this.pendingBytes += sourceBytes;
    const len = chunk.byteLength;
    if (len === 0) return this.take(false);
    const buf = asBuffer(chunk);
    let start = 0;

    if (this.skipping || this.partialBytes > 0) {
      const nl = buf.indexOf(NL);
      if (nl === -1) {
        this.continueLine(buf);
        return this.take(false);
      }
      this.finishLine(buf.subarray(0, nl));
      start = nl + 1;
    }

    const last = buf.lastIndexOf(NL);
    if (last >= start) {
      let text = buf.toString('utf8', start, last);
      if (this.fresh) {
        // Nothing carried, so this is the start of the input: drop a BOM, and from now on keep them.
        text = stripBom(text);
        this.fresh = false;
        this.resetLine();
      }
      this.addText(text, buf, start, last);
      start = last + 1;
    }

    if (start < len) this.continueLine(buf.subarray(start));
    return this.take(false);
  }

  /**
   * End of this input. `emitPartial`: a last line without newline is a record (false in follow mode when
   * the stream is only paused; the caller then just drops the framer).
   */
  end(emitPartial = true): RecordBatch[] {
    if (emitPartial) {
      if (this.skipping) {
        this.endSkip();
      } else if (this.partialBytes > 0) {
        this.completeLine(this.partial + this.decoder.decode(), this.partialBytes);
      }
    }
    return this.take(true);
  }

  /** The input failed mid-stream: the line being read (possibly empty) becomes a `read_error` reject. */
  fail(message?: string): RecordBatch[] {
    let sample = '';
    let bytes = 0;
    if (this.skipping) {
      sample = this.skipSample;
      bytes = this.skipBytes;
      this.skipping = false;
      this.skipSample = '';
    } else if (this.partialBytes > 0) {
      sample = sampleOf(this.partial + this.decoder.decode(), this.sampleChars);
      bytes = this.partialBytes;
    }
    this.resetLine();
    this.reject({
      position: this.nextPosition,
      reason: 'read_error',
      sample,
      bytes,
      ...(message ? { message } : {}),
    });
    return this.take(true);
  }

  /** Bytes of the unfinished line (no `\n` yet), continuing the partial line or the skipped over-long one. */
  private continueLine(bytes: Buffer): void {
    if (this.skipping) {
      this.skipBytes += bytes.length;
      this.skipLast = bytes[bytes.length - 1]!;
      return;
    }
    this.partial += this.decoder.decode(bytes, { stream: true });
    this.partialBytes += bytes.length;
    this.fresh = false;
    // +1: the line may still end with a `\r` that will be stripped.
    if (this.partial.length > this.max + 1) {
      // Never hold more than ~max: keep the sample, count the rest.
      this.skipping = true;
      this.skipSample = sampleOf(this.partial, this.sampleChars);
      this.skipBytes = this.partialBytes;
      this.skipLast = bytes[bytes.length - 1]!;
      this.resetLine();
    }
  }

  /** `head` = the bytes before the first `\n` of a chunk, ending the current line. */
  private finishLine(head: Buffer): void {
    if (this.skipping) {
      this.skipBytes += head.length;
      if (head.length > 0) this.skipLast = head[head.length - 1]!;
      this.endSkip();
      return;
    }
    const text = this.partial + this.decoder.decode(head);
    this.completeLine(text, this.partialBytes + head.length);
  }

  private endSkip(): void {
    const bytes = this.skipLast === CR ? this.skipBytes - 1 : this.skipBytes;
    const sample = this.skipSample;
    this.skipping = false;
    this.skipSample = '';
    this.resetLine();
    this.reject({ position: this.nextPosition, reason: 'line_too_long', sample, bytes });
  }

  private completeLine(text: string, bytes: number): void {
    if (text.charCodeAt(text.length - 1) === CR) {
      text = text.slice(0, -1);
      bytes--;
    }
    this.resetLine();
    if (text.length > this.max) {
      this.reject({
        position: this.nextPosition,
        reason: 'line_too_long',
        sample: sampleOf(text, this.sampleChars),
        bytes,
      });
    } else {
      this.addRecords([text]);
    }
  }

  private resetLine(): void {
    this.partial = '';
    this.partialBytes = 0;
    // After a flush the decoder must keep a BOM: it is only stripped at the very start of the input.
    this.decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  }

  /** `text` = decoded `buf[from, to)`, whole lines separated by `\n`. */
  private addText(text: string, buf: Buffer, from: number, to: number): void {
    const lines = text.split('\n');
    // Fast path: no `\r` and nothing too long, so the split result is the records as is.
    if (text.length <= this.max && text.indexOf('\r') === -1) {
      this.addRecords(lines);
      return;
    }
    let done = 0;
    // Byte offset of line `byteLine`, advanced lazily: only needed to size rejects.
    let byteLine = 0;
    let byteOff = from;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      if (line.charCodeAt(line.length - 1) === CR) {
        line = line.slice(0, -1);
        lines[i] = line;
      }
      if (line.length <= this.max) continue;
      while (byteLine < i) {
        byteOff = buf.indexOf(NL, byteOff) + 1;
        byteLine++;
      }
      let end = buf.indexOf(NL, byteOff);
      if (end === -1 || end > to) end = to;
      const bytes = end > byteOff && buf[end - 1] === CR ? end - byteOff - 1 : end - byteOff;
      if (i > done) this.addRecords(lines.slice(done, i));
      this.reject({
        position: this.nextPosition,
        reason: 'line_too_long',
        sample: sampleOf(line, this.sampleChars),
        bytes,
      });
      done = i + 1;
    }
    if (done === 0) this.addRecords(lines);
    else if (done < lines.length) this.addRecords(lines.slice(done));
  }

  private addRecords(lines: string[]): void {
    let from = 0;
    while (from < lines.length) {
      const room = this.batchLines - this.records.length;
      if (this.records.length === 0 && lines.length - from <= room) {
        // Common case: adopt the array instead of copying it.
        this.records = from === 0 ? lines : lines.slice(from);
        return;
      }
      const n = Math.min(room, lines.length - from);
      for (let i = 0; i < n; i++) this.records.push(lines[from + i]!);
      from += n;
      if (this.records.length >= this.batchLines) this.emit(undefined);
    }
  }

  private reject(reject: FrameReject): void {
    this.emit(reject);
  }

  private emit(reject: FrameReject | undefined): void {
    const batch: RecordBatch = {
      input: this.input,
      first: this.first,
      records: this.records,
      bytesRead: this.pendingBytes,
    };
    if (reject) batch.rejects = [reject];
    this.out.push(batch);
    this.pendingBytes = 0;
    this.first += this.records.length + (reject ? 1 : 0);
    this.records = [];
  }

  /** Closes the batch being built and hands over everything complete. */
  private take(final: boolean): RecordBatch[] {
    if (this.records.length > 0 || (final && this.pendingBytes > 0)) this.emit(undefined);
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** Document framing: the whole input is one record at position 1, never buffered beyond the limit. */
export class DocumentFramer {
  private chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;
  private over = false;
  private pendingBytes = 0;
  private readonly max: number;
  private readonly sampleChars: number;

  constructor(
    readonly input: string,
    options: DocumentFramerOptions,
  ) {
    this.max = options.maxDocumentBytes;
    this.sampleChars = options.sampleChars;
  }

  push(chunk: Uint8Array, sourceBytes: number = chunk.byteLength): RecordBatch[] {
    this.pendingBytes += sourceBytes;
    this.total += chunk.byteLength;
    if (this.over) return [];
    if (this.total > this.max) {
      this.over = true;
      // Keep only enough for the sample (4 bytes per character at most).
      const sampleBytes = this.sampleChars * 4;
      const head = Buffer.concat([...this.chunks, asBuffer(chunk)]);
      this.chunks = [Buffer.from(head.subarray(0, sampleBytes))];
      this.kept = this.chunks[0]!.length;
      return [];
    }
    // Copied: callers may reuse their buffer.
    this.chunks.push(Buffer.from(chunk));
    this.kept += chunk.byteLength;
    return [];
  }

  end(): RecordBatch[] {
    if (this.total === 0) return this.pendingBytes > 0 ? [this.batch([])] : [];
    const text = stripBom(Buffer.concat(this.chunks, this.kept).toString('utf8'));
    this.chunks = [];
    if (this.over) {
      return [
        this.batch([], {
          position: 1,
          reason: 'document_too_large',
          sample: sampleOf(text, this.sampleChars),
          bytes: this.total,
        }),
      ];
    }
    return [this.batch([text])];
  }

  fail(message?: string): RecordBatch[] {
    const text = stripBom(Buffer.concat(this.chunks, this.kept).toString('utf8'));
    this.chunks = [];
    return [
      this.batch([], {
        position: 1,
        reason: 'read_error',
        sample: sampleOf(text, this.sampleChars),
        bytes: this.total,
        ...(message ? { message } : {}),
      }),
    ];
  }

  private batch(records: string[], reject?: FrameReject): RecordBatch {
    const batch: RecordBatch = { input: this.input, first: 1, records, bytesRead: this.pendingBytes };
    if (reject) batch.rejects = [reject];
    this.pendingBytes = 0;
    return batch;
  }
}

export interface FrameOptions {
  /** Emit a last line that has no trailing newline (default true; follow mode waits instead). */
  emitPartial?: boolean;
  batchLines?: number;
}

/**
 * Frames one input's chunks per `options.framing`. An error before the first chunk (cannot open, is a
 * directory, not gzip after all) is thrown as an InputError; an error mid-stream (truncated gzip, EIO) ends
 * the input with a `read_error` reject at the next position, so what was read is kept and later inputs go
 * on. Aborting ends quietly.
 */
export async function* frameChunks(
  input: string,
  chunks: AsyncIterable<Chunk | Uint8Array>,
  options: ReadOptions,
  frameOptions: FrameOptions = {},
): AsyncGenerator<RecordBatch> {
  const framer =
    options.framing === 'document'
      ? new DocumentFramer(input, options)
      : new LineFramer(input, { ...options, batchLines: frameOptions.batchLines });
  let started = false;
  try {
    for await (const chunk of chunks) {
      started = true;
      const batches =
        chunk instanceof Uint8Array ? framer.push(chunk) : framer.push(chunk.data, chunk.sourceBytes);
      for (const batch of batches) yield batch;
      if (options.signal?.aborted) return;
    }
  } catch (err) {
    if (options.signal?.aborted) return;
    if (!started) throw inputError(input, err);
    for (const batch of framer.fail(err instanceof Error ? err.message : String(err))) yield batch;
    return;
  }
  const batches = framer instanceof LineFramer ? framer.end(frameOptions.emitPartial ?? true) : framer.end();
  for (const batch of batches) yield batch;
}
