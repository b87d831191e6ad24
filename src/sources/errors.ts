/**
 * Input errors the CLI turns into a one-line message (no stack trace): a file that cannot be opened or read.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    message: string,
    /** The path or argument concerned. */
    readonly input: string,
    /** The Node error code when there is one (ENOENT, EACCES, ...). */
    readonly code?: string,
  ) {
    super(message);
  }
}

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  ELOOP: 'too many symbolic links',
  EIO: 'i/o error',
  Z_DATA_ERROR: 'corrupt gzip data',
  Z_BUF_ERROR: 'truncated gzip data',
};

/** A short human reason for a failed fs/zlib call: `no such file`, `permission denied`, ... */
export function describeError(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && FS_REASONS[code]) return FS_REASONS[code];
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string' && message) return message;
  }
  return String(err);
}

export function errorCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** `cannot read 'x.log': no such file` */
export function inputError(path: string, err: unknown): InputError {
  return new InputError(`cannot read '${path}': ${describeError(err)}`, path, errorCode(err));
}
