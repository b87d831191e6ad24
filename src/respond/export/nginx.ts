/**
 * Decisions as nginx configuration: two files, because nginx wants them in two contexts.
 *
 * - `apiwarden-http.conf` goes in `http {}`: `geo` blocks for addresses, `map` blocks for device headers and
 *   endpoints, one `limit_req_zone` per rate limit, and per action one flag (`$apiwarden_block`,
 *   `$apiwarden_challenge`) that is 1 when any of its decisions matches the request.
 * - `apiwarden-server.conf` goes in each `server {}` (or `location {}`) to enforce: `return 403` on
 *   `$apiwarden_block`, `return 401` on `$apiwarden_challenge` (nginx cannot challenge; point `error_page 401`
 *   at your challenge), and the `limit_req` lines with `limit_req_status 429`.
 *
 * A rate limit's zone is keyed on a map variable that is empty for every client the decision does not
 * name; nginx does not count requests with an empty key, so only the named actor is limited.
 *
 * Matching is exact and case-sensitive everywhere: a device id is an anchored regex of hex escapes (nginx's
 * exact `map` keys compare case-insensitively, and a bare key could be `default` or start with `~`), an
 * endpoint is an anchored regex over `"$request_method $uri"` built from the template (`$uri` is decoded
 * and normalised, so encoded paths cannot slip past). Addresses come out of core/net.ts already validated
 * and re-printed. No value from traffic reaches the file unescaped.
 */

import type { ExportInput, ExportResult, RateLimit } from '../types.js';
import {
  type Actor,
  commentText,
  deviceHeaderName,
  type Endpoint,
  type Net,
  type Prepared,
  pathRegex,
  pcreBytes,
  prepare,
  shortHash,
  sortSkips,
  uniqueNets,
} from './common.js';

export const NGINX_HTTP_FILE = 'apiwarden-http.conf';
export const NGINX_SERVER_FILE = 'apiwarden-server.conf';

/** An nginx quoted string. Our strings are ASCII already; escaping is the second line of defence. */
export function nginxString(s: string): string {
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s)) throw new Error('nginx string with control characters');
  return `"${s.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

/** A `map` key that matches exactly this text: `~` + anchored regex of escaped bytes. */
const exactKey = (value: string): string => nginxString(`~^${pcreBytes(Buffer.from(value, 'utf8'))}\\z`);

/** A `map` key over `"$flag:$request_method:$uri"` that matches flag 1 on this endpoint. */
const endpointKey = (ep: Endpoint): string =>
  nginxString(`~^1:${ep.method}:${pathRegex(ep.parts, pcreBytes)}\\z`);

/** nginx rates are whole requests per second or per minute; the burst lets the whole allowance through at once. */
export function nginxRate(r: RateLimit): { rate: string; burst: number } {
  let perMin = (r.requests * 60) / r.perSeconds;
  const whole = Math.round(perMin);
  if (Math.abs(perMin - whole) < 1e-9) perMin = whole;
  const rate =
    Number.isInteger(perMin) && perMin % 60 === 0
      ? `${perMin / 60}r/s`
      : `${Math.max(1, Math.ceil(perMin))}r/m`;
  return { rate, burst: r.requests - 1 };
}

function describe(p: Prepared): string {
  const d = p.decision;
  const who = p.actor.kind === 'net' ? `${d.scope.kind} ${p.actor.net.text}` : 'device';
  const rate = p.rate ? ` ${p.rate.requests} per ${p.rate.perSeconds} s` : '';
  const on = p.endpoint ? ` on ${p.endpoint.method} ${p.endpoint.template}` : '';
  return commentText(`decision ${p.id}: ${d.action}${rate}, ${who}${on}`);
}

export function exportNginx(input: ExportInput): ExportResult {
  const header = deviceHeaderName(input);
  const headerVar = `$http_${header.replace(/-/g, '_')}`;
  const { items, skipped } = prepare(input, 'nginx');

  const flagNets = { block: [] as Net[], challenge: [] as Net[] };
  const flagDevices = { block: [] as string[], challenge: [] as string[] };
  /** Per-decision flag variables (endpoint-scoped blocks and challenges), by action. */
  const flagVars = { block: [] as string[], challenge: [] as string[] };
  const perDecision: string[] = [];
  const limits: string[] = [];

  /** `geo`/`map` setting `$name` to 1 for this actor. */
  const actorBlock = (name: string, actor: Actor): string[] =>
    actor.kind === 'net'
      ? [`geo $${name} {`, '    default 0;', `    ${actor.net.text} 1;`, '}']
      : [`map ${headerVar} $${name} {`, '    default 0;', `    ${exactKey(actor.value)} 1;`, '}'];

  for (const p of items) {
    const action = p.decision.action;
    const h = shortHash(p.decision.id);
    if (action !== 'rate_limit' && p.endpoint === null) {
      if (p.actor.kind === 'net') flagNets[action].push(p.actor.net);
      else flagDevices[action].push(p.actor.value);
      continue;
    }
    const lines = [`# ${describe(p)}`, ...actorBlock(`apiwarden_a_${h}`, p.actor)];
    if (action !== 'rate_limit') {
      const ep = p.endpoint!;
      lines.push(
        `map "$apiwarden_a_${h}:$request_method:$uri" $apiwarden_d_${h} {`,
        '    default 0;',
        `    ${endpointKey(ep)} 1;`,
        '}',
      );
      flagVars[action].push(`$apiwarden_d_${h}`);
    } else {
      const key = p.actor.kind === 'net' ? '$binary_remote_addr' : headerVar;
      if (p.endpoint === null) {
        lines.push(`map $apiwarden_a_${h} $apiwarden_k_${h} {`, '    default "";', `    1 ${key};`, '}');
      } else {
        lines.push(
          `map "$apiwarden_a_${h}:$request_method:$uri" $apiwarden_k_${h} {`,
          '    default "";',
          `    ${endpointKey(p.endpoint)} ${key};`,
          '}',
        );
      }
      const { rate, burst } = nginxRate(p.rate!);
      // One state per client address (64 bytes); a wide network gets room for more addresses.
      const size =
        p.actor.kind === 'net' && p.actor.net.prefix < (p.actor.net.family === 4 ? 32 : 128) ? 10 : 1;
      lines.push(`limit_req_zone $apiwarden_k_${h} zone=apiwarden_${h}:${size}m rate=${rate};`);
      limits.push(
        `# ${describe(p)}`,
        `limit_req zone=apiwarden_${h}${burst > 0 ? ` burst=${burst}` : ''} nodelay;`,
      );
    }
    perDecision.push(...lines, '');
  }

  const http: string[] = [
    "# Generated by apiwarden's nginx exporter. Do not edit: re-export instead.",
    `# Include in the http {} context; include ${NGINX_SERVER_FILE} in each server {} to enforce.`,
    `# ${items.length} decision(s) exported, ${skipped.length} skipped.`,
    '',
  ];
  for (const action of ['block', 'challenge'] as const) {
    http.push(`geo $apiwarden_${action}_ip {`, '    default 0;');
    for (const n of uniqueNets(flagNets[action])) http.push(`    ${n.text} 1;`);
    http.push('}', '', `map ${headerVar} $apiwarden_${action}_device {`, '    default 0;');
    for (const v of [...new Set(flagDevices[action])].sort()) http.push(`    ${exactKey(v)} 1;`);
    http.push('}', '');
  }
  http.push(...perDecision);
  for (const action of ['block', 'challenge'] as const) {
    const vars = [`$apiwarden_${action}_ip`, `$apiwarden_${action}_device`, ...flagVars[action]];
    http.push(`map "${vars.join('')}" $apiwarden_${action} {`, '    default 0;', '    "~1" 1;', '}', '');
  }

  const server: string[] = [
    "# Generated by apiwarden's nginx exporter. Do not edit: re-export instead.",
    `# Include in each server {} (or location {}) to enforce; needs ${NGINX_HTTP_FILE} in http {}.`,
    '# A location with its own limit_req directives does not inherit these: include this file there too.',
    'if ($apiwarden_block) {',
    '    return 403;',
    '}',
    'if ($apiwarden_challenge) {',
    '    return 401;',
    '}',
    'limit_req_status 429;',
    ...limits,
  ];

  return {
    files: [
      { path: NGINX_HTTP_FILE, content: `${http.join('\n').trimEnd()}\n` },
      { path: NGINX_SERVER_FILE, content: `${server.join('\n')}\n` },
    ],
    skipped: sortSkips(skipped),
  };
}
