/**
 * Who is asking: `Authorization: Bearer <token>`, checked against the state's hashed API tokens (one indexed
 * lookup, src/store/state/pg-state.ts). Roles are ordered viewer < analyst < admin: viewers read, analysts
 * also change things (workflow, decisions, ingest), admins also manage users and tokens. Every route says
 * the least role it needs with `guard(role)`; a missing or unknown token is 401, a known token whose role is
 * too low is 403, and both are decided before the body is read.
 *
 * Bearer tokens in a header are never sent by a browser on its own, so there is no CSRF to defend against.
 * The one exception, `?token=` on the Server-Sent Events route (EventSource cannot set headers), is opt-in per
 * route (`allowQueryToken`) and documented in docs/server.md.
 */
import type { MiddlewareHandler } from 'hono';
import type { Authenticated, PgStateStore, Role } from '../store/state/pg-state.js';
import { ApiError } from './http.js';

/** `unmatched`: set by the not-found handler, for the metrics' route label. */
export type ServerEnv = { Variables: { auth: Authenticated; unmatched?: boolean } };

const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };

export const atLeast = (have: Role, need: Role): boolean => RANK[have] >= RANK[need];

const CHALLENGE = 'Bearer realm="apiwarden"';

/** The token of a request: the Authorization header, or (where allowed) the `token` query parameter. */
function tokenOf(header: string | undefined, query: string | undefined): string | null {
  if (header !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return m === null ? '' : m[1]!;
  }
  return query ?? null;
}

export interface GuardOptions {
  /** Accept `?token=` too (the SSE route only). */
  allowQueryToken?: boolean;
}

/** Authenticates the request and requires at least `role`; the caller is in `c.var.auth`. */
export function guard(
  state: PgStateStore,
  role: Role,
  opts: GuardOptions = {},
): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const token = tokenOf(
      c.req.header('authorization'),
      opts.allowQueryToken ? c.req.query('token') : undefined,
    );
    if (token === null)
      throw new ApiError(
        401,
        'unauthorized',
        'an API token is required: Authorization: Bearer <token>',
        undefined,
        {
          'www-authenticate': CHALLENGE,
        },
      );
    const who = token === '' ? null : await state.authenticate(token);
    if (who === null)
      throw new ApiError(
        401,
        'unauthorized',
        'the API token is not valid (unknown, revoked or malformed)',
        undefined,
        { 'www-authenticate': `${CHALLENGE}, error="invalid_token"` },
      );
    if (!atLeast(who.role, role))
      throw new ApiError(
        403,
        'forbidden',
        `this needs the ${role} role or higher; the token of ${who.user.name} has ${who.role}`,
      );
    c.set('auth', who);
    await next();
  };
}
