/**
 * The HTTP edge of the server: one JSON shape for every answer and every error, bounded body reading, and body
 * validation with zod. Errors are thrown as `ApiError` from handlers (Hono's way: exceptions at the edge) and
 * turned into `{error: {code, message, field?}}` by `onError`, so a handler never builds an error response
 * by hand and no stack trace reaches a client.
 *
 * JSON is written with `<`, `>` and `&` escaped (`\u003c` ...): the same JSON to any parser, and a body that
 * stays inert even where something ignores `content-type` and `nosniff` and sniffs HTML. Attacker strings
 * from traffic (explanations, user names, paths) travel as data inside that JSON and nowhere else.
 */
import { gunzip } from 'node:zlib';
import type { Context } from 'hono';
import type { z } from 'zod';
import { StateError } from '../respond/state.js';
import { WorkflowError } from '../respond/workflow.js';

export const JSON_TYPE = 'application/json; charset=utf-8';

export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'invalid_json'
  | 'invalid_body'
  | 'invalid_query'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'no_store'
  | 'unavailable'
  | 'internal';

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** JSON text with `<`, `>`, `&` and the JS line separators escaped. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => {
    const code = ch.charCodeAt(0).toString(16).padStart(4, '0');
    return `\\u${code}`;
  });
}

/** A JSON response (status 200 unless told). */
export function json(
  c: Context,
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return c.body(safeJson(body), status as 200, { 'content-type': JSON_TYPE, ...headers });
}

export function errorBody(code: ErrorCode, message: string, field?: string) {
  return { error: { code, message, ...(field === undefined ? {} : { field }) } };
}

/**
 * Any error thrown by a handler → its JSON answer. Expected errors of the response chain map to statuses:
 * a workflow refusal (wrong status, dry-run) is 409, as is a state conflict (a user that exists).
 */
export function errorResponse(c: Context, e: unknown, log: (msg: string) => void): Response {
  if (e instanceof ApiError) return json(c, errorBody(e.code, e.message, e.field), e.status, e.headers);
  if (e instanceof WorkflowError || e instanceof StateError)
    return json(c, errorBody('conflict', e.message), 409);
  log(`internal error on ${c.req.method} ${c.req.path}: ${(e as Error)?.stack ?? String(e)}`);
  return json(c, errorBody('internal', 'internal error (see the server log)'), 500);
}

/**
 * Reads a request body up to `maxBytes` (a 413 as soon as it is exceeded, before reading the rest; a declared
 * content-length over the limit is refused without reading at all). `content-encoding: gzip` is inflated,
 * and the inflated size is held to the same limit (a small gzip can hide gigabytes).
 */
export async function readBody(c: Context, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new ApiError(413, 'payload_too_large', `the request body is larger than the limit of ${maxBytes} bytes`);
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const body = c.req.raw.body;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (body !== null) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  const raw = Buffer.concat(chunks, size);
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip' && encoding !== 'x-gzip')
    throw new ApiError(
      415,
      'unsupported_media_type',
      `content-encoding ${JSON.stringify(encoding)} is not supported (gzip or none)`,
    );
  return new Promise((resolve, reject) => {
    gunzip(raw, { maxOutputLength: maxBytes }, (e, out) => {
      if (e === null) resolve(out);
      else if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        reject(
          new ApiError(
            413,
            'payload_too_large',
            `the request body inflates to more than the limit of ${maxBytes} bytes`,
          ),
        );
      else reject(new ApiError(400, 'invalid_body', `the gzip body cannot be inflated: ${e.message}`));
    });
  });
}

/** The JSON path of a zod issue (`scope.value`, `rateLimit.requests`, `0.id`). */
const fieldOf = (path: readonly PropertyKey[]): string | undefined =>
  path.length === 0 ? undefined : path.map(String).join('.');

/** The first problem of a zod error, as an ApiError naming its field. */
export function zodProblem(e: z.ZodError, code: 'invalid_body' | 'invalid_query'): ApiError {
  const issue = e.issues[0]!;
  const field = fieldOf(issue.path);
  const where = field === undefined ? '' : `${field}: `;
  return new ApiError(400, code, `${where}${issue.message}`, field);
}

/** Reads and validates a JSON body (at most `maxBytes`). */
export async function readJson<S extends z.ZodType>(
  c: Context,
  schema: S,
  maxBytes: number,
): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (type !== '' && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type))
    throw new ApiError(
      415,
      'unsupported_media_type',
      `expected a JSON body (content-type application/json), got ${JSON.stringify(type)}`,
    );
  const text = (await readBody(c, maxBytes)).toString('utf8');
  let value: unknown;
  if (text.trim() === '') value = {};
  else
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON');
    }
  const r = schema.safeParse(value);
  if (!r.success) throw zodProblem(r.error, 'invalid_body');
  return r.data;
}

/** Validates the query string. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const r = schema.safeParse(c.req.query());
  if (!r.success) throw zodProblem(r.error, 'invalid_query');
  return r.data;
}
