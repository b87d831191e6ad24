/**
 * Opening the input of a command: CLI arguments → the right Source.
 */
import type { Readable } from 'node:stream';
import { expandInputs } from './expand.js';
import { FileSource } from './file.js';
import { FollowSource, type StartAt } from './follow.js';
import { StdinSource } from './stdin.js';
import type { Source } from './types.js';

export { InputError } from './errors.js';
export { type ExpandResult, expandInputs } from './expand.js';
export { FileSource } from './file.js';
export { type FollowOptions, FollowSource, type StartAt } from './follow.js';
export { DocumentFramer, frameChunks, LineFramer } from './lines.js';
export { StdinSource } from './stdin.js';
export type { FrameReject, Framing, ReadOptions, RecordBatch, Source } from './types.js';

export interface OpenSourceOptions {
  /** tail -F the files instead of reading them once. */
  follow?: boolean;
  pollMs?: number;
  startAt?: StartAt;
  /** The stream `-` reads (default process.stdin). */
  stdin?: Readable;
}

export type OpenSourceResult = { ok: true; source: Source } | { ok: false; error: string };

/**
 * `-` alone reads stdin (also in follow mode: a pipe is followed until it closes). Files are read oldest
 * first; in follow mode, paths that do not exist yet are waited for.
 */
export async function openSource(args: string[], opts: OpenSourceOptions = {}): Promise<OpenSourceResult> {
  if (args.length === 0) return { ok: false, error: 'no input given' };
  const name = args.join(' ');
  const expanded = await expandInputs(args, { allowMissing: opts.follow === true });
  if (!expanded.ok) return expanded;
  if (expanded.stdin) {
    if (expanded.files.length > 0)
      return { ok: false, error: "'-' (stdin) cannot be mixed with other inputs" };
    return { ok: true, source: new StdinSource(opts.stdin ?? process.stdin) };
  }
  if (expanded.files.length === 0) return { ok: false, error: 'no input files' };
  if (opts.follow) {
    return {
      ok: true,
      source: new FollowSource(expanded.files, { pollMs: opts.pollMs, startAt: opts.startAt }, name),
    };
  }
  return { ok: true, source: new FileSource(expanded.files, name) };
}
