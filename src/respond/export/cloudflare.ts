/**
 * Decisions as Cloudflare API input, two JSON files:
 *
 * - `cloudflare-lists.json`: the account IP lists `apiwarden_block` and `apiwarden_challenge`, each as
 *   `{ create, items }`: `create` is the body of `POST /accounts/{account_id}/rules/lists` (name, kind `ip`,
 *   description), `items` the body of `PUT /accounts/{account_id}/rules/lists/{list_id}/items` ({ip, comment}
 *   entries; PUT replaces every item, so a re-export converges). Both lists are always written.
 * - `cloudflare-rules.json`: rules by phase. `http_request_firewall_custom` (custom rules: action `block` or
 *   `managed_challenge`, expression, description, enabled) and `http_ratelimit` (rate limiting rules, action
 *   `block`, with `ratelimit` {characteristics, period, requests_per_period, mitigation_timeout}). Add them
 *   to the zone's phase entry point rulesets (`PUT /zones/{zone_id}/rulesets/phases/{phase}/entrypoint`).
 *
 * IP lists take IPv4 addresses and /8-/32 networks and IPv6 networks from /12 to /64, not single IPv6
 * addresses: those (and any other prefix) go into the expressions as inline sets (`ip.src in {…}`),
 * which take any address or CIDR. Expressions stay within Cloudflare's 4,096 characters: long sets are
 * split over several rules.
 *
 * Device ids and paths are string literals in the Rules language: double-quoted with `\` and `"` escaped
 * (the documented basic escaping). `http.request.uri.path` is the path as sent, percent-encoded (URL
 * normalisation decodes only unreserved characters), so a path of unreserved characters without
 * parameters is compared with `eq` (every plan), any other with `matches` (Business and Enterprise plans)
 * and a raw-string regex where each other character is itself or its percent-encoding. Rate limits count
 * per IP (`ip.src`, with the mandatory `cf.colo.id`), device-scoped ones included: counting by header
 * value needs Advanced Rate Limiting.
 */

import type { ExportInput, ExportResult, RateLimit } from '../types.js';
import {
  cfPathRegex,
  deviceHeaderName,
  type Endpoint,
  endpointText,
  hasParam,
  jsonFile,
  type Net,
  type Prepared,
  pathRegex,
  prepare,
  type Skip,
  sortSkips,
} from './common.js';

export const CLOUDFLARE_LISTS_FILE = 'cloudflare-lists.json';
export const CLOUDFLARE_RULES_FILE = 'cloudflare-rules.json';
export const CF_EXPRESSION_MAX = 4096;
export const CF_PERIODS = [10, 60, 120, 300, 600, 3600] as const;
export const CF_LIST = { block: 'apiwarden_block', challenge: 'apiwarden_challenge' } as const;

export interface CfListItem {
  ip: string;
  comment: string;
}
export interface CfList {
  create: { name: string; kind: 'ip'; description: string };
  items: CfListItem[];
}
export interface CfRule {
  description: string;
  expression: string;
  action: 'block' | 'managed_challenge';
  enabled: boolean;
  ratelimit?: {
    characteristics: string[];
    period: number;
    requests_per_period: number;
    mitigation_timeout: number;
  };
}

/** A quoted string literal: `\` and `"` escaped, as the Rules language's basic escaping requires. */
export function cfString(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

/** A raw string literal `r#"…"#` with as many `#` as it takes for the content not to close it. */
export function cfRaw(s: string): string {
  let n = 0;
  while (s.includes(`"${'#'.repeat(n)}`)) n++;
  if (n > 255) throw new Error('string cannot be a Cloudflare raw string');
  const h = '#'.repeat(n);
  return `r${h}"${s}"${h}`;
}

/** Can a list hold this network? IPv4 /8-/32, IPv6 /12-/64 (single IPv6 addresses cannot be listed). */
export const listable = (n: Net): boolean =>
  n.family === 4 ? n.prefix >= 8 : n.prefix >= 12 && n.prefix <= 64;

/** The smallest period ≥ the decision's (at most an hour) and the requests it allows in it. */
export function cfRate(r: RateLimit): { period: number; requests_per_period: number } {
  const period = CF_PERIODS.find((p) => p >= r.perSeconds) ?? CF_PERIODS[CF_PERIODS.length - 1];
  return { period, requests_per_period: Math.max(1, Math.ceil((r.requests * period) / r.perSeconds - 1e-9)) };
}

const ACTION = { block: 'block', challenge: 'managed_challenge' } as const;

/** The decision ids a rule stands for, briefly. */
function idList(ids: string[]): string {
  const shown = ids.slice(0, 3).join(', ');
  return ids.length > 3 ? `${shown} +${ids.length - 3} more` : shown;
}

/** One address or device in a rule: its expression text and the decisions it comes from. */
interface Item {
  text: string;
  ids: string[];
  decisions: string[];
  net: Net | null;
}

const byNet = (a: Item, b: Item): number => (a.net!.key < b.net!.key ? -1 : a.net!.key > b.net!.key ? 1 : 0);

export function exportCloudflare(input: ExportInput): ExportResult {
  const header = deviceHeaderName(input);
  const headerField = `http.request.headers[${cfString(header)}]`;
  const { items, skipped } = prepare(input, 'Cloudflare');
  const extra: Skip[] = [];
  const custom: CfRule[] = [];
  const rate: CfRule[] = [];

  const endpointExpr = (ep: Endpoint): string | null => {
    const text = endpointText(ep);
    if (text === null) return null;
    const method = `http.request.method eq ${cfString(ep.method)}`;
    // A path of unreserved characters without parameters is compared as is (`eq`, on every plan).
    const plain = !hasParam(ep) && /^[A-Za-z0-9/_~.-]*$/.test(text.join(''));
    const path = plain
      ? `http.request.uri.path eq ${cfString(text.join(''))}`
      : `http.request.uri.path matches ${cfRaw(`^${pathRegex(text, cfPathRegex)}$`)}`;
    return `${method} and ${path}`;
  };
  const deviceExpr = (v: string): string => `any(${headerField}[*] eq ${cfString(v)})`;
  const ipExpr = (nets: string[]): string => `ip.src in {${nets.join(' ')}}`;

  /**
   * Rules for these items (addresses or devices), as few as the expression limit allows. `build` makes the
   * expression from a chunk of item texts.
   */
  const pack = (
    all: Item[],
    build: (texts: string[]) => string,
    rule: (expr: string, ids: string[]) => CfRule,
  ): void => {
    let cur: Item[] = [];
    const flush = (): void => {
      if (cur.length === 0) return;
      const ids = [...new Set(cur.flatMap((i) => i.ids))].sort();
      custom.push(rule(build(cur.map((i) => i.text)), ids));
      cur = [];
    };
    for (const it of all) {
      if (build([it.text]).length > CF_EXPRESSION_MAX) {
        for (const d of it.decisions) {
          extra.push({
            decision: d,
            reason: `expression longer than Cloudflare's ${CF_EXPRESSION_MAX} characters`,
          });
        }
        continue;
      }
      if (build([...cur, it].map((i) => i.text)).length > CF_EXPRESSION_MAX) flush();
      cur.push(it);
    }
    flush();
  };

  const listed = { block: new Map<string, Item>(), challenge: new Map<string, Item>() };
  /** Inline address and device items by action and endpoint. */
  const groups = new Map<
    string,
    {
      action: 'block' | 'challenge';
      ep: Endpoint | null;
      nets: Map<string, Item>;
      devices: Map<string, Item>;
    }
  >();
  const add = (m: Map<string, Item>, key: string, text: string, net: Net | null, p: Prepared): void => {
    const it = m.get(key);
    if (it) {
      it.ids.push(p.id);
      it.decisions.push(p.decision.id);
    } else m.set(key, { text, ids: [p.id], decisions: [p.decision.id], net });
  };

  for (const p of items) {
    const action = p.decision.action;
    let epExpr = '';
    if (p.endpoint) {
      const e = endpointExpr(p.endpoint);
      if (e === null) {
        extra.push({
          decision: p.decision.id,
          reason: `endpoint ${JSON.stringify(p.endpoint.template)} is not valid UTF-8 once decoded`,
        });
        continue;
      }
      epExpr = e;
    }
    if (action === 'rate_limit') {
      const actor = p.actor.kind === 'net' ? ipExpr([p.actor.net.text]) : deviceExpr(p.actor.value);
      const expression = epExpr === '' ? `(${actor})` : `(${actor}) and (${epExpr})`;
      if (expression.length > CF_EXPRESSION_MAX) {
        extra.push({
          decision: p.decision.id,
          reason: `expression longer than Cloudflare's ${CF_EXPRESSION_MAX} characters`,
        });
        continue;
      }
      const r = cfRate(p.rate!);
      rate.push({
        description: `apiwarden rate_limit ${p.rate!.requests} per ${p.rate!.perSeconds} s: ${p.id}`,
        expression,
        action: 'block',
        enabled: true,
        ratelimit: {
          characteristics: ['cf.colo.id', 'ip.src'],
          period: r.period,
          requests_per_period: r.requests_per_period,
          mitigation_timeout: r.period,
        },
      });
      continue;
    }
    if (p.actor.kind === 'net' && p.endpoint === null && listable(p.actor.net)) {
      add(listed[action], p.actor.net.key, p.actor.net.text, p.actor.net, p);
      continue;
    }
    const gkey = `${action}\n${p.endpoint ? `${p.endpoint.method} ${p.endpoint.template}` : ''}`;
    let g = groups.get(gkey);
    if (!g) {
      g = { action, ep: p.endpoint, nets: new Map(), devices: new Map() };
      groups.set(gkey, g);
    }
    if (p.actor.kind === 'net') add(g.nets, p.actor.net.key, p.actor.net.text, p.actor.net, p);
    else add(g.devices, p.actor.value, deviceExpr(p.actor.value), null, p);
  }

  const lists: CfList[] = [];
  for (const action of ['block', 'challenge'] as const) {
    const entries = [...listed[action].values()].sort(byNet);
    lists.push({
      create: { name: CF_LIST[action], kind: 'ip', description: `apiwarden: addresses to ${action}` },
      items: entries.map((e) => ({ ip: e.text, comment: `apiwarden ${action}: ${idList(e.ids)}` })),
    });
    custom.push({
      description: `apiwarden ${action}: addresses in list ${CF_LIST[action]}`,
      expression: `(ip.src in $${CF_LIST[action]})`,
      action: ACTION[action],
      enabled: true,
    });
  }

  const sortedGroups = [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [, g] of sortedGroups) {
    const epExpr = g.ep ? endpointExpr(g.ep)! : '';
    const on = g.ep ? ` on ${g.ep.method} ${g.ep.template}`.slice(0, 120) : '';
    const withEp = (actor: string): string => (epExpr === '' ? `(${actor})` : `(${actor}) and (${epExpr})`);
    const netItems = [...g.nets.values()].sort(byNet);
    pack(
      netItems,
      (texts) => withEp(ipExpr(texts)),
      (expression, ids) => ({
        description: `apiwarden ${g.action}: addresses${on} (${idList(ids)})`,
        expression,
        action: ACTION[g.action],
        enabled: true,
      }),
    );
    const devItems = [...g.devices.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, i]) => i);
    pack(
      devItems,
      (texts) => withEp(texts.join(' or ')),
      (expression, ids) => ({
        description: `apiwarden ${g.action}: devices${on} (${idList(ids)})`,
        expression,
        action: ACTION[g.action],
        enabled: true,
      }),
    );
  }

  const rules = { http_request_firewall_custom: custom, http_ratelimit: rate };
  return {
    files: [
      { path: CLOUDFLARE_LISTS_FILE, content: jsonFile(lists) },
      { path: CLOUDFLARE_RULES_FILE, content: jsonFile(rules) },
    ],
    skipped: sortSkips([...skipped, ...extra]),
  };
}
