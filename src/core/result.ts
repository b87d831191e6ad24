/** Expected failures are values: parsers and config loaders return these instead of throwing. */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

/**
 * Why a record was not turned into an event. The reason is a short stable code (it groups the end-of-run
 * summary and the quarantine file); `detail` says what exactly was wrong.
 */
export class Malformed {
  constructor(
    readonly reason: MalformedReason,
    readonly detail?: string,
  ) {}
}

export type MalformedReason =
  | 'format_mismatch'
  | 'bad_timestamp'
  | 'bad_status'
  | 'missing_ip'
  | 'bad_request_line'
  | 'bad_json'
  | 'not_an_object'
  | 'missing_field'
  | 'bad_har'
  | 'line_too_long'
  | 'document_too_large'
  | 'read_error';

export const isMalformed = (x: unknown): x is Malformed => x instanceof Malformed;
