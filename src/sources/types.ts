/**
 * The Source interface. A source delivers raw records (log lines, or whole documents for HAR) in batches,
 * with their origin, and never interprets them: parsing happens downstream. Files, stdin, follow mode,
 * and later an HTTP push receiver or a Kafka consumer all implement this one interface.
 */

/** How records are cut out of a byte stream. */
export type Framing = 'line' | 'document';

export interface ReadOptions {
  /** `line`: one record per `\n` (a trailing `\r` is removed). `document`: one record per input. */
  framing: Framing;
  /** Lines longer than this (in UTF-16 code units of the decoded text) are rejected, not buffered whole. */
  maxLineBytes: number;
  /** Documents larger than this are rejected (reason `document_too_large`). */
  maxDocumentBytes: number;
  /** Characters of an over-long line kept as the reject's sample. */
  sampleChars: number;
  /** Aborting ends the iteration promptly (follow mode otherwise never ends). */
  signal?: AbortSignal;
}

/** A record that could not be framed (e.g. a line over `maxLineBytes`). It still occupies its position. */
export interface FrameReject {
  position: number;
  reason: 'line_too_long' | 'document_too_large' | 'read_error';
  /** The first `sampleChars` characters, for the quarantine file. */
  sample: string;
  /** Size of the whole record in bytes when known. */
  bytes?: number;
  /** What went wrong, for `read_error` (e.g. `unexpected end of file`). */
  message?: string;
}

export interface RecordBatch {
  /** Where the records come from: a file path, `stdin`, later `kafka:topic/partition`. */
  input: string;
  /** Position of `records[0]`; `records[i]` is at `first + i`. 1-based line number for line framing. */
  first: number;
  /** The records. Blank lines are included as `''` so positions stay contiguous. */
  records: string[];
  /** Records rejected by framing, in position order; their positions are not in `records`. */
  rejects?: FrameReject[];
  /** Source bytes consumed since the previous batch (compressed bytes for gzip), for progress. */
  bytesRead: number;
}

export interface Source {
  /** A name for messages: the argument as the user gave it. */
  readonly name: string;
  /** Total bytes of all inputs when known up front (files), for progress; undefined for streams. */
  totalBytes(): Promise<number | undefined>;
  /** Reads every input in order. Batches of one input are in position order; inputs are read in time order. */
  read(options: ReadOptions): AsyncIterable<RecordBatch>;
}
