/**
 * Checking what a person types for a decision, shared by the CLI (`decide --scope`, `backtest --scope`) and
 * the server's JSON API, so that both accept exactly the same scopes and rate limits. Problems are values
 * naming the part that is wrong (`kind`, `value`, `endpoint`, `rate`); each caller words them for its own
 * surface (a flag, a JSON field).
 */
import { parseCidr } from '../core/net.js';
import { err, ok, type Result } from '../core/result.js';
import { type DecisionScope, type RateLimit, SCOPE_KINDS, type ScopeKind } from './types.js';

export interface ScopeProblem {
  /** Which part is wrong. */
  part: 'scope' | 'kind' | 'value' | 'endpoint';
  message: string;
}

/** `METHOD /template`, as the inventory names endpoints. */
const ENDPOINT = /^[A-Z]+ \/\S*$/;
const TOKEN_ID = /^[0-9a-f]{16}$/;

/** A scope from its parts; the value is checked for its kind (addresses and CIDRs strictly). */
export function checkScope(
  kind: string,
  value: string,
  endpoint?: string,
): Result<DecisionScope, ScopeProblem> {
  if (!(SCOPE_KINDS as readonly string[]).includes(kind))
    return err({ part: 'kind', message: `kind must be one of ${SCOPE_KINDS.join(', ')}, got '${kind}'` });
  if (value === '') return err({ part: 'value', message: `${kind}: the value is empty` });
  if (kind === 'ip' && (parseCidr(value) === null || value.includes('/')))
    return err({ part: 'value', message: `ip: '${value}' is not an IP address` });
  if (kind === 'cidr' && parseCidr(value) === null)
    return err({ part: 'value', message: `cidr: '${value}' is not a CIDR` });
  if (kind === 'token' && !TOKEN_ID.test(value))
    return err({
      part: 'value',
      message: `token: expected the 16-hex token id apiwarden shows, got '${value}'`,
    });
  if (endpoint !== undefined && !ENDPOINT.test(endpoint))
    return err({
      part: 'endpoint',
      message: `endpoint must be 'METHOD /path' as in the inventory, got '${endpoint}'`,
    });
  return ok({ kind: kind as ScopeKind, value, ...(endpoint === undefined ? {} : { endpoint }) });
}

/** `kind:value` → scope (the CLI's `--scope`). */
export function parseScopeText(s: string, endpoint?: string): Result<DecisionScope, ScopeProblem> {
  const i = s.indexOf(':');
  const kind = s.slice(0, i);
  if (i < 0 || !(SCOPE_KINDS as readonly string[]).includes(kind) || s.slice(i + 1) === '')
    return err({
      part: 'scope',
      message: `must be KIND:VALUE with KIND one of ${SCOPE_KINDS.join(', ')}, got '${s}'`,
    });
  return checkScope(kind, s.slice(i + 1), endpoint);
}

/** `30/m`, `100/5m`, `10/s` → a rate limit, or what is wrong with it. */
export function parseRateText(s: string): Result<RateLimit, string> {
  const m = /^(\d+)\/(\d+)?([smh])$/.exec(s);
  if (m === null) return err(`must look like 30/m, 100/5m or 10/s, got '${s}'`);
  const requests = Number(m[1]);
  if (requests < 1) return err('needs at least 1 request');
  return ok({ requests, perSeconds: Number(m[2] ?? 1) * { s: 1, m: 60, h: 3600 }[m[3] as 's' | 'm' | 'h'] });
}

/** The default rate limit of a manual or hypothetical `rate_limit` decision. */
export const DEFAULT_RATE: RateLimit = { requests: 60, perSeconds: 60 };
