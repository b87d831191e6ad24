/**
 * FollowSource: `tail -F` for one or more files. Polls with fs.stat (fs.watch misses events on network
 * filesystems and across rotation) and handles:
 * - growth: new bytes are read from where we stopped; a partial last line waits for its newline;
 * - rotation (the path now names another inode): the old file is drained to its end, then the new one is
 *   read from its beginning, as a new generation whose positions restart at 1;
 * - truncation (copytruncate: size below our offset): restart at offset 0, positions restart at 1;
 * - a missing file: waited for, as is a path whose file disappears for a while.
 * Positions are line numbers counted from where reading started (with `startAt: 'end'`, from the end).
 * A gzip file cannot grow: it is read once (or skipped with `startAt: 'end'`) and not followed.
 * Limits (shared with tail -F): a truncation followed by growth past our offset within one poll interval
 * is not detected; files that appear later in a followed directory are not picked up.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, inputError } from './errors.js';
import { isGzip, maybeGunzip } from './gzip.js';
import { frameChunks, LineFramer } from './lines.js';
import type { ReadOptions, RecordBatch, Source } from './types.js';

export type StartAt = 'beginning' | 'end';

export interface FollowOptions {
  /** How often to look for new data when idle (default 250 ms). */
  pollMs?: number;
  /** Where to start in files that exist when following begins (default `beginning`). */
  startAt?: StartAt;
}

const READ_CHUNK = 1024 * 1024;
const NL = 0x0a;

export class FollowSource implements Source {
  readonly name: string;
  private readonly pollMs: number;
  private readonly startAt: StartAt;

  constructor(
    readonly paths: readonly string[],
    options: FollowOptions = {},
    name?: string,
  ) {
    this.name = name ?? paths.join(' ');
    this.pollMs = Math.max(1, options.pollMs ?? 250);
    this.startAt = options.startAt ?? 'beginning';
  }

  /** Unknown: followed files keep growing. */
  async totalBytes(): Promise<number | undefined> {
    return undefined;
  }

  /** Never ends on its own: abort `options.signal` to stop. Throws InputError for document framing. */
  async *read(options: ReadOptions): AsyncGenerator<RecordBatch> {
    if (options.framing !== 'line') {
      throw new InputError(`cannot follow '${this.name}': follow mode reads lines, not documents`, this.name);
    }
    const { signal } = options;
    // One read buffer for all files: the framer copies what it keeps, and files are read one at a time.
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    const tailers = this.paths.map((p) => new Tailer(p, this.startAt, options, buf));
    try {
      while (!signal?.aborted) {
        let progressed = false;
        for (const tailer of tailers) {
          for await (const batch of tailer.poll()) yield batch;
          progressed ||= tailer.progressed;
          if (signal?.aborted) return;
        }
        if (!progressed && !(await idle(this.pollMs, signal))) return;
      }
    } finally {
      await Promise.all(tailers.map((t) => t.close()));
    }
  }
}

/** Waits `ms`; false when aborted meanwhile. */
async function idle(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
    return true;
  } catch {
    return false;
  }
}

async function statOrUndefined(path: string): Promise<{ ino: number; dev: number } | undefined> {
  try {
    return await stat(path);
  } catch {
    // Missing or temporarily inaccessible: keep what we have and look again next poll.
    return undefined;
  }
}

/** One followed path: the open file generation, our offset in it, and its framer. */
class Tailer {
  private fh: FileHandle | undefined;
  private ino = 0;
  private dev = 0;
  private pos = 0;
  private framer: LineFramer;
  /** Before the first poll: `startAt` applies only to files that exist when following begins. */
  private initial = true;
  /** Started mid-line (`startAt: 'end'`): bytes up to the next newline are not a whole line. */
  private discardFragment = false;
  /** Read once (gzip): nothing more to follow. */
  private done = false;
  /** Whether the last poll read any byte. */
  progressed = false;

  constructor(
    readonly path: string,
    private readonly startAt: StartAt,
    private readonly options: ReadOptions,
    private readonly buf: Buffer,
  ) {
    this.framer = this.newFramer();
  }

  private newFramer(): LineFramer {
    return new LineFramer(this.path, this.options);
  }

  async *poll(): AsyncGenerator<RecordBatch> {
    this.progressed = false;
    const fromEnd = this.initial && this.startAt === 'end';
    this.initial = false;
    if (this.done) return;
    let fh = this.fh;
    if (!fh) {
      const opened = await this.open(fromEnd);
      if (opened === 'gzip') {
        // A gzip file never grows: read it whole once, unless only new data was asked for.
        if (!fromEnd) yield* this.readGzipOnce();
        return;
      }
      if (opened === 'missing') return;
      fh = opened;
    }
    // Look at the path before draining, so the drain below gets what was written before a rotation.
    const now = await statOrUndefined(this.path);
    const rotated = now !== undefined && (now.ino !== this.ino || now.dev !== this.dev);

    const size = (await fh.stat()).size;
    if (size < this.pos) {
      // copytruncate: the file restarted; what we had is a finished generation.
      yield* this.framer.end(true);
      this.framer = this.newFramer();
      this.pos = 0;
      this.discardFragment = false;
    }
    yield* this.drain(fh);

    if (rotated) {
      // The old generation is complete: flush its last line (even without newline), then switch.
      yield* this.framer.end(true);
      await this.close();
      this.framer = this.newFramer();
      this.progressed = true;
      const opened = await this.open(false);
      if (opened === 'gzip') yield* this.readGzipOnce();
      else if (opened !== 'missing') yield* this.drain(opened);
    }
  }

  /** Reads from our offset to the current end of file. */
  private async *drain(fh: FileHandle): AsyncGenerator<RecordBatch> {
    const { buf } = this;
    for (;;) {
      if (this.options.signal?.aborted) return;
      let n: number;
      try {
        n = (await fh.read(buf, 0, buf.length, this.pos)).bytesRead;
      } catch (err) {
        throw inputError(this.path, err);
      }
      if (n === 0) return;
      this.pos += n;
      this.progressed = true;
      let data = buf.subarray(0, n);
      if (this.discardFragment) {
        const nl = data.indexOf(NL);
        if (nl === -1) {
          yield* this.framer.push(data.subarray(0, 0), n);
          continue;
        }
        this.discardFragment = false;
        data = data.subarray(nl + 1);
      }
      yield* this.framer.push(data, n);
    }
  }

  /**
   * Opens the file now at the path as a new generation: `missing` when there is none yet (or it is not
   * readable for now), `gzip` when it is compressed (marks the tailer done: the caller reads it once).
   */
  private async open(fromEnd: boolean): Promise<FileHandle | 'missing' | 'gzip'> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch {
      return 'missing';
    }
    try {
      const info = await fh.stat();
      if (!info.isFile()) {
        await fh.close();
        return 'missing';
      }
      const head = Buffer.alloc(2);
      const { bytesRead } = await fh.read(head, 0, 2, 0);
      if (isGzip(head.subarray(0, bytesRead))) {
        await fh.close();
        this.done = true;
        return 'gzip';
      }
      this.pos = 0;
      this.discardFragment = false;
      if (fromEnd && info.size > 0) {
        this.pos = info.size;
        // If the file does not end with a newline, we start inside a line: skip its rest.
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, info.size - 1);
        this.discardFragment = last[0] !== NL;
      }
      this.fh = fh;
      this.ino = info.ino;
      this.dev = info.dev;
      return fh;
    } catch (err) {
      await fh.close().catch(() => {});
      throw inputError(this.path, err);
    }
  }

  private async *readGzipOnce(): AsyncGenerator<RecordBatch> {
    const stream = createReadStream(this.path, { highWaterMark: READ_CHUNK });
    try {
      yield* frameChunks(this.path, maybeGunzip(stream), this.options);
    } finally {
      stream.destroy();
    }
    this.progressed = true;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => {});
  }
}
