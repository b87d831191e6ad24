/**
 * Decisions as a ModSecurity v3 (libmodsecurity) / Coraza rules file, `apiwarden.conf`, loaded after
 * `SecRuleEngine On` (e.g. `modsecurity_rules_file` in nginx).
 *
 * - Address blocks and challenges without an endpoint are grouped: one `@ipMatch` rule per 500 addresses.
 * - Every other decision is one rule (a chain when it has an endpoint): the actor, then `REQUEST_METHOD
 *   @streq`, then `REQUEST_FILENAME @rx` built from the template after `t:urlDecodeUni,t:normalizePath`
 *   (so `/api/v1/auth/%6cogin` is `/api/v1/auth/login`).
 * - block is `deny,status:403`; challenge is `deny,status:401` tagged `apiwarden/challenge` (ModSecurity
 *   cannot challenge: map 401 to your challenge page, e.g. nginx `error_page 401`).
 * - rate_limit is skipped: libmodsecurity 3.0.x parses `expirevar` but does nothing with it (tested on
 *   Debian's 3.0.9: an `ip.` counter never resets, so the actor would be blocked forever), and without an
 *   LMDB build each nginx worker counts alone. The nginx exporter's `limit_req` does rate limits.
 *
 * Rule ids are 4200000-4299999: 4200000-4204999 the block groups, 4205000-4209999 the challenge groups,
 * 4210000+ one per decision in decision-id order. They are renumbered on each export; the file is replaced
 * whole, never edited.
 *
 * Device ids and paths are matched with anchored `@rx` (`\A…\z`) whose every ASCII character outside
 * `[A-Za-z0-9_/-]` is `\xHH`: `@streq` would be shorter, but ModSecurity expands `%{...}` macros inside
 * operator arguments and has no escape for them, so a device id `%{REQUEST_HEADERS.x}` would not be
 * compared as written. With hex escapes the argument holds no quote, no `%`, no `,`, nothing the rule parser
 * or the macro expander reads.
 */

import type { ExportInput, ExportResult } from '../types.js';
import {
  chunks,
  commentText,
  deviceHeaderName,
  type Net,
  PLUS_OR_SPACE,
  type Prepared,
  pathRegex,
  pcreBytes,
  pcreText,
  prepare,
  type Skip,
  sortSkips,
  uniqueNets,
} from './common.js';

export const MODSECURITY_FILE = 'apiwarden.conf';
export const RULE_ID_MIN = 4200000;
export const RULE_ID_MAX = 4299999;
const GROUP_BASE = { block: 4200000, challenge: 4205000 } as const;
const GROUP_MAX = 5000;
const DECISION_BASE = 4210000;
const GROUP_SIZE = 500;

const STATUS = { block: 403, challenge: 401 } as const;

/** A double-quoted SecRule argument. What we build never holds `"`, `\n` or `%`; refuse rather than guess. */
function arg(s: string): string {
  if (/["\x00-\x1f\x7f%]/.test(s)) throw new Error(`unsafe ModSecurity argument ${JSON.stringify(s)}`);
  return `"${s}"`;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes for `@rx`: ASCII outside `[A-Za-z0-9_/-]` as `\xHH`, non-ASCII as the UTF-8 text itself, which
 * matches both in libmodsecurity's PCRE (byte for byte) and in Coraza's Go regexp (where `\xHH` would be
 * a code point, not a byte); invisible characters (U+2028, bidi controls …) as their bytes, so the file
 * shows them (exact for libmodsecurity; Coraza would not match those). Bytes that are not UTF-8 (a
 * decoded `%FF` in a template) are all `\xHH`.
 */
function rxLiteral(b: Buffer): string {
  try {
    return pcreText(UTF8.decode(b), true);
  } catch {
    return pcreBytes(b);
  }
}

/** A literal path part: as `rxLiteral`, with `+` also matching the space `t:urlDecodeUni` makes of it. */
const pathLiteral = (b: Buffer): string => rxLiteral(b).split('\\x2b').join(PLUS_OR_SPACE);

const exactRx = (b: Buffer): string => `@rx \\A${rxLiteral(b)}\\z`;

function describe(p: Prepared): string {
  const d = p.decision;
  const who = p.actor.kind === 'net' ? `${d.scope.kind} ${p.actor.net.text}` : 'device';
  const on = p.endpoint ? ` on ${p.endpoint.method} ${p.endpoint.template}` : '';
  return commentText(`decision ${p.id}: ${d.action}, ${who}${on}`);
}

export function exportModSecurity(input: ExportInput): ExportResult {
  const header = deviceHeaderName(input);
  const { items, skipped } = prepare(input, 'ModSecurity');
  const extraSkips: Skip[] = [];
  const grouped = { block: [] as Net[], challenge: [] as Net[] };
  const perDecision: Prepared[] = [];

  for (const p of items) {
    const action = p.decision.action;
    if (action === 'rate_limit') {
      extraSkips.push({
        decision: p.decision.id,
        reason:
          'rate_limit: libmodsecurity 3 has no working rate limit (expirevar is a no-op, so counters never ' +
          'reset, and collections are per nginx worker); export the nginx target and use its limit_req',
      });
    } else if (p.actor.kind === 'net' && p.endpoint === null) {
      grouped[action].push(p.actor.net);
    } else {
      perDecision.push(p);
    }
  }

  const out: string[] = [];

  for (const action of ['block', 'challenge'] as const) {
    const nets = uniqueNets(grouped[action]);
    const parts = chunks(nets, GROUP_SIZE);
    if (parts.length > GROUP_MAX) throw new Error(`more than ${GROUP_MAX * GROUP_SIZE} ${action} addresses`);
    parts.forEach((part, i) => {
      out.push(
        `# ${action}: ${part.length} address(es)`,
        `SecRule REMOTE_ADDR ${arg(`@ipMatch ${part.map((n) => n.text).join(',')}`)} \\`,
        `    ${arg(
          `id:${GROUP_BASE[action] + i},phase:1,t:none,deny,status:${STATUS[action]},log,` +
            `msg:'apiwarden ${action}: address',tag:'apiwarden/${action}'`,
        )}`,
        '',
      );
    });
  }

  perDecision.forEach((p, i) => {
    const id = DECISION_BASE + i;
    if (id > RULE_ID_MAX) {
      extraSkips.push({
        decision: p.decision.id,
        reason: 'ModSecurity rule id range 4200000-4299999 is full',
      });
      return;
    }
    const action = p.decision.action as 'block' | 'challenge';
    const conds: { target: string; op: string; t: string }[] = [];
    if (p.actor.kind === 'net')
      conds.push({ target: 'REMOTE_ADDR', op: `@ipMatch ${p.actor.net.text}`, t: 't:none' });
    else
      conds.push({
        target: `REQUEST_HEADERS:${header}`,
        op: exactRx(Buffer.from(p.actor.value, 'utf8')),
        t: 't:none',
      });
    if (p.endpoint !== null) {
      conds.push({ target: 'REQUEST_METHOD', op: `@streq ${p.endpoint.method}`, t: 't:none' });
      conds.push({
        target: 'REQUEST_FILENAME',
        op: `@rx \\A${pathRegex(p.endpoint.parts, pathLiteral)}\\z`,
        t: 't:none,t:urlDecodeUni,t:normalizePath',
      });
    }
    out.push(`# ${describe(p)}`);
    conds.forEach((c, k) => {
      const chain = k < conds.length - 1 ? ',chain' : '';
      const actions =
        k === 0
          ? `id:${id},phase:1,${c.t},deny,status:${STATUS[action]},log,msg:'apiwarden ${action}: decision ${p.id}',` +
            `tag:'apiwarden/${action}',tag:'apiwarden/decision/${p.id}'${chain}`
          : `${c.t}${chain}`;
      out.push(
        `${k === 0 ? '' : '    '}SecRule ${c.target} ${arg(c.op)} \\`,
        `    ${k === 0 ? '' : '    '}${arg(actions)}`,
      );
    });
    out.push('');
  });

  const exported = items.length - extraSkips.length;
  const head = [
    "# Generated by apiwarden's modsecurity exporter. Do not edit: re-export instead.",
    "# ModSecurity v3 / Coraza. Needs SecRuleEngine On. Rule ids 4200000-4299999 are apiwarden's.",
    '# block: deny 403. challenge: deny 401 tagged apiwarden/challenge (route 401 to your challenge page).',
    `# ${exported} decision(s) exported, ${skipped.length + extraSkips.length} skipped.`,
    '',
  ];
  return {
    files: [{ path: MODSECURITY_FILE, content: `${[...head, ...out].join('\n').trimEnd()}\n` }],
    skipped: sortSkips([...skipped, ...extraSkips]),
  };
}
