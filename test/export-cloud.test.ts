/**
 * The AWS WAF and Cloudflare exporters, which cannot be run here: their JSON is checked against JSON
 * Schemas written by hand from the documented API shapes (testdata/export/schemas, each naming its doc
 * pages), loaded with zod's JSON Schema reader (ajv is not a dependency), then against the documented
 * constraints a schema cannot state: unique priorities and names, IP set and list address formats and
 * prefix ranges, placeholders that name a created set, rate bounds, expression length.
 *
 * Hostile values are checked the way an engine would read them: AWS regexes and Cloudflare regexes are
 * compiled (JS regex syntax agrees with PCRE and Rust regex on the escapes used) and must match exactly the
 * original value; Cloudflare expressions are tokenised by the Rules language's string rules, and every
 * string literal must read back as the original value with nothing outside the literals but the fields,
 * operators and addresses the exporter writes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseCidr } from '../src/core/net.js';
import { AWS_IPSET_MAX, awsRate } from '../src/respond/export/aws-waf.js';
import { CF_EXPRESSION_MAX, cfRate } from '../src/respond/export/cloudflare.js';
import { exportDecisions } from '../src/respond/export/index.js';
import type { Decision, ExportResult } from '../src/respond/types.js';

const SCHEMAS = join(import.meta.dirname, '..', 'testdata', 'export', 'schemas');
const schema = (name: string): z.ZodType =>
  z.fromJSONSchema(
    JSON.parse(readFileSync(join(SCHEMAS, name), 'utf8')) as Parameters<typeof z.fromJSONSchema>[0],
  );

const NOW = Date.UTC(2026, 0, 15);
const HOSTILE_DEVICE = `evil"; } default 1; map $x $y { ~.* 1; } %{REMOTE_ADDR} \\ 'é' ,# r#"x"# ) or (true \u2028`;
const HOSTILE_TEMPLATE = `/h/"q';}{$uri}\\/{id}/a b%0Az"#`;

function decision(
  id: string,
  action: Decision['action'],
  scope: Decision['scope'],
  extra: Partial<Decision> = {},
): Decision {
  return {
    id,
    action,
    scope,
    status: 'active',
    origin: 'auto',
    reason: 'test',
    createdTs: NOW - 1000,
    expiresTs: null,
    offence: 1,
    ...extra,
  };
}

const DECISIONS: Decision[] = [
  decision('ip', 'block', { kind: 'ip', value: '203.0.113.7' }),
  decision('cidr', 'block', { kind: 'cidr', value: '198.18.0.0/15' }),
  decision('wide', 'block', { kind: 'cidr', value: '16.0.0.0/4' }),
  decision('v6', 'block', { kind: 'ip', value: '2001:DB8::5' }),
  decision('v6net', 'block', { kind: 'cidr', value: '2001:db8:bad::/48' }),
  decision('dev', 'block', { kind: 'device', value: 'dev-blocked-1' }),
  decision('hostile-dev', 'block', { kind: 'device', value: HOSTILE_DEVICE }),
  decision('ep', 'block', { kind: 'ip', value: '203.0.113.20', endpoint: 'POST /api/v1/users/{id}/profile' }),
  decision('ep2', 'block', {
    kind: 'ip',
    value: '2001:db8::20',
    endpoint: 'POST /api/v1/users/{id}/profile',
  }),
  decision('ep-plain', 'block', { kind: 'ip', value: '203.0.113.21', endpoint: 'POST /api/v1/auth/login' }),
  decision('ep-dev', 'challenge', { kind: 'device', value: 'dev-ep', endpoint: 'GET /api/v2/products/{id}' }),
  decision('hostile-ep', 'block', { kind: 'ip', value: '203.0.113.30', endpoint: `GET ${HOSTILE_TEMPLATE}` }),
  decision('chal', 'challenge', { kind: 'ip', value: '192.0.2.44' }),
  decision('chal6', 'challenge', { kind: 'cidr', value: '2001:db8:cafe::/64' }),
  decision(
    'rl',
    'rate_limit',
    { kind: 'ip', value: '198.51.100.9' },
    { rateLimit: { requests: 5, perSeconds: 60 } },
  ),
  decision(
    'rl-dev',
    'rate_limit',
    { kind: 'device', value: HOSTILE_DEVICE, endpoint: 'GET /api/v2/products/{id}' },
    { rateLimit: { requests: 100, perSeconds: 3600 } },
  ),
  decision(
    'rl-net',
    'rate_limit',
    { kind: 'cidr', value: '2001:db8:1::/64' },
    { rateLimit: { requests: 1000, perSeconds: 1 } },
  ),
  decision('tok', 'block', { kind: 'token', value: '0123456789abcdef' }),
  decision('user', 'block', { kind: 'user', value: 'alice' }),
];

const json = (r: ExportResult, path: string): unknown =>
  JSON.parse(r.files.find((f) => f.path === path)!.content);

function expectValid(s: z.ZodType, data: unknown): void {
  const r = s.safeParse(data);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
}

/** Every string value under `v` at key `key`. */
function collect(v: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) collect(x, key, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === key) out.push(x);
      collect(x, key, out);
    }
  }
  return out;
}

/** A CIDR as AWS wants it: with its prefix, not /0, in the set's family. */
function checkCidr(s: string, version: 'IPV4' | 'IPV6'): void {
  const p = parseCidr(s);
  expect(p, s).not.toBeNull();
  expect(s).toContain('/');
  expect(p![1]).toBeGreaterThan(0);
  expect(p![2]).toBe(version === 'IPV4' ? 'ipv4' : 'ipv6');
}

describe('aws-waf', () => {
  const r = exportDecisions('aws-waf', { decisions: DECISIONS, now: NOW });
  const ipSets = json(r, 'aws-waf-ipsets.json') as {
    Name: string;
    IPAddressVersion: 'IPV4' | 'IPV6';
    Addresses: string[];
  }[];
  const rules = json(r, 'aws-waf-rules.json') as {
    Name: string;
    Priority: number;
    VisibilityConfig: { MetricName: string };
  }[];

  it('writes CreateIPSet bodies and WebACL rules that match the documented shapes', () => {
    expectValid(schema('aws-wafv2-ipsets.json'), ipSets);
    expectValid(schema('aws-wafv2-rules.json'), rules);
  });

  it('keeps names and priorities unique and references only IP sets it creates', () => {
    expect(new Set(rules.map((x) => x.Priority)).size).toBe(rules.length);
    expect(new Set(rules.map((x) => x.Name)).size).toBe(rules.length);
    expect(new Set(ipSets.map((x) => x.Name)).size).toBe(ipSets.length);
    for (const x of rules) expect(x.VisibilityConfig.MetricName).toBe(x.Name);
    const arns = collect(rules, 'ARN') as string[];
    expect(arns.length).toBeGreaterThan(0);
    for (const a of arns) expect(ipSets.map((s) => `{{ipset:${s.Name}}}`)).toContain(a);
  });

  it('writes every address as a CIDR of its set family (single addresses /32 and /128)', () => {
    for (const s of ipSets) for (const a of s.Addresses) checkCidr(a, s.IPAddressVersion);
    const all = ipSets.flatMap((s) => s.Addresses);
    expect(all).toEqual(
      expect.arrayContaining(['203.0.113.7/32', '2001:db8::5/128', '198.18.0.0/15', '2001:db8:bad::/48']),
    );
    expect(ipSets.find((s) => s.Name === 'apiwarden-challenge-ipv6')!.Addresses).toEqual([
      '2001:db8:cafe::/64',
    ]);
  });

  it('matches the hostile device id and endpoint exactly with its regexes', () => {
    const regexes = (collect(rules, 'RegexString') as string[]).map((s) => new RegExp(s));
    const hits = (v: string): number => regexes.filter((x) => x.test(v)).length;
    expect(hits(HOSTILE_DEVICE)).toBe(2); // the block rule and the rate-limit scope-down
    expect(hits(`${HOSTILE_DEVICE} `)).toBe(0);
    expect(hits('evil')).toBe(0);
    expect(hits(`/h/"q';}{$uri}\\/42/a b\nz"#`)).toBe(1);
    expect(hits(`/h/"q';}{$uri}\\/42/a b\nzz"#`)).toBe(0);
    expect(hits('/api/v1/users/42/profile')).toBe(1);
    expect(hits('/api/v1/users/42/profile/x')).toBe(0);
  });

  it('converts rates into a documented window with a limit of at least 10', () => {
    expect(awsRate({ requests: 5, perSeconds: 60 })).toEqual({ Limit: 10, EvaluationWindowSec: 120 });
    expect(awsRate({ requests: 100, perSeconds: 60 })).toEqual({ Limit: 100, EvaluationWindowSec: 60 });
    expect(awsRate({ requests: 100, perSeconds: 300 })).toEqual({ Limit: 100, EvaluationWindowSec: 300 });
    expect(awsRate({ requests: 100, perSeconds: 3600 })).toEqual({ Limit: 17, EvaluationWindowSec: 600 });
    expect(awsRate({ requests: 1, perSeconds: 3600 })).toEqual({ Limit: 10, EvaluationWindowSec: 600 });
    expect(awsRate({ requests: 1000, perSeconds: 1 })).toEqual({ Limit: 60000, EvaluationWindowSec: 60 });
  });

  it('splits IP sets at the 10,000-address quota', () => {
    const many = Array.from({ length: AWS_IPSET_MAX + 5 }, (_, i) =>
      decision(`m${i}`, 'block', { kind: 'ip', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }),
    );
    const big = exportDecisions('aws-waf', { decisions: many, now: NOW });
    const sets = json(big, 'aws-waf-ipsets.json') as { Name: string; Addresses: string[] }[];
    expectValid(schema('aws-wafv2-ipsets.json'), sets);
    expect(sets.find((s) => s.Name === 'apiwarden-block-ipv4')!.Addresses).toHaveLength(AWS_IPSET_MAX);
    expect(sets.find((s) => s.Name === 'apiwarden-block-ipv4-2')!.Addresses).toHaveLength(5);
    const names = (json(big, 'aws-waf-rules.json') as { Name: string }[]).map((x) => x.Name);
    expect(names.slice(0, 2)).toEqual(['apiwarden-block-ipv4', 'apiwarden-block-ipv4-2']);
  });

  it('uses the CLOUDFRONT scope when asked', () => {
    const cf = exportDecisions('aws-waf', { decisions: DECISIONS, now: NOW }, { awsScope: 'CLOUDFRONT' });
    expect(new Set((json(cf, 'aws-waf-ipsets.json') as { Scope: string }[]).map((s) => s.Scope))).toEqual(
      new Set(['CLOUDFRONT']),
    );
  });

  it('has schemas that reject what AWS rejects', () => {
    const bad = structuredClone(rules) as unknown as { Name: string; Statement: Record<string, unknown> }[];
    bad[0]!.Name = 'has space';
    expect(schema('aws-wafv2-rules.json').safeParse(bad).success).toBe(false);
    const rate = structuredClone(rules).find((x) => x.Name.startsWith('apiwarden-rate-limit'))!;
    (
      rate as unknown as { Statement: { RateBasedStatement: { Limit: number } } }
    ).Statement.RateBasedStatement.Limit = 9;
    expect(schema('aws-wafv2-rules.json').safeParse([rate]).success).toBe(false);
    expect(
      schema('aws-wafv2-ipsets.json').safeParse([{ ...ipSets[0], Description: 'bad (parens)' }]).success,
    ).toBe(false);
  });
});

type Token = { t: 'str'; v: string } | { t: 'raw'; v: string } | { t: 'word'; v: string };

/** Tokenises a Rules language expression: quoted strings (`\\` and `\"` only), raw strings, the rest. */
function tokens(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === ' ') {
      i++;
    } else if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= expr.length) throw new Error(`unterminated string in ${expr}`);
        const d = expr[i]!;
        if (d === '"') break;
        if (d === '\\') {
          const e = expr[i + 1];
          if (e !== '\\' && e !== '"') throw new Error(`escape \\${e} in ${expr}`);
          v += e;
          i += 2;
        } else {
          v += d;
          i++;
        }
      }
      i++;
      out.push({ t: 'str', v });
    } else if (c === 'r' && /^r#*"/.test(expr.slice(i))) {
      const hashes = /^r(#*)"/.exec(expr.slice(i))![1]!;
      const start = i + 2 + hashes.length;
      const end = expr.indexOf(`"${hashes}`, start);
      if (end === -1) throw new Error(`unterminated raw string in ${expr}`);
      out.push({ t: 'raw', v: expr.slice(start, end) });
      i = end + 1 + hashes.length;
    } else if ('()[]{}*'.includes(c)) {
      out.push({ t: 'word', v: c });
      i++;
    } else {
      const m = /^[^ ()[\]{}*"]+/.exec(expr.slice(i))!;
      out.push({ t: 'word', v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

const WORDS = new Set([
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '*',
  'ip.src',
  'in',
  'and',
  'or',
  'eq',
  'matches',
  'any',
  'http.request.method',
  'http.request.uri.path',
  'http.request.headers',
  '$apiwarden_block',
  '$apiwarden_challenge',
]);

/** A Cloudflare regex (Rust syntax) as a JS one: `\x{HH}` is `\u{HH}` in a unicode-mode JS regex. */
const cfRegex = (s: string): RegExp => new RegExp(s.replace(/\\x\{([0-9a-f]+)\}/g, '\\u{$1}'), 'u');

describe('cloudflare', () => {
  const r = exportDecisions('cloudflare', { decisions: DECISIONS, now: NOW });
  const lists = json(r, 'cloudflare-lists.json') as { create: { name: string }; items: { ip: string }[] }[];
  const rules = json(r, 'cloudflare-rules.json') as {
    http_request_firewall_custom: { expression: string; action: string }[];
    http_ratelimit: { expression: string; ratelimit: { characteristics: string[] } }[];
  };
  const allRules = [...rules.http_request_firewall_custom, ...rules.http_ratelimit];

  it('writes lists and rules that match the documented shapes', () => {
    expectValid(schema('cloudflare-lists.json'), lists);
    expectValid(schema('cloudflare-rules.json'), rules);
    for (const x of rules.http_ratelimit) expect(x.ratelimit.characteristics).toContain('cf.colo.id');
  });

  it('lists only what lists take (IPv4 /8-/32, IPv6 /12-/64); the rest goes inline', () => {
    expect(lists.map((l) => l.create.name)).toEqual(['apiwarden_block', 'apiwarden_challenge']);
    for (const l of lists) {
      for (const { ip } of l.items) {
        const p = parseCidr(ip)!;
        expect(p, ip).not.toBeNull();
        if (p[2] === 'ipv4') expect(p[1]).toBeGreaterThanOrEqual(8);
        else {
          expect(ip).toContain('/');
          expect(p[1]).toBeGreaterThanOrEqual(12);
          expect(p[1]).toBeLessThanOrEqual(64);
        }
      }
    }
    expect(lists[0]!.items.map((x) => x.ip)).toEqual(['198.18.0.0/15', '203.0.113.7', '2001:db8:bad::/48']);
    expect(lists[1]!.items.map((x) => x.ip)).toEqual(['192.0.2.44', '2001:db8:cafe::/64']);
    const exprs = allRules.map((x) => x.expression);
    expect(exprs).toContain('(ip.src in {16.0.0.0/4 2001:db8::5})');
    expect(exprs).toContain('(ip.src in {2001:db8:1::/64})');
  });

  it('keeps hostile values inside their string literals', () => {
    const strings: string[] = [];
    for (const { expression } of allRules) {
      expect(expression.length).toBeLessThanOrEqual(CF_EXPRESSION_MAX);
      for (const tk of tokens(expression)) {
        if (tk.t === 'str') strings.push(tk.v);
        else if (tk.t === 'raw') cfRegex(tk.v);
        else if (!WORDS.has(tk.v))
          expect(parseCidr(tk.v), `unexpected token ${tk.v} in ${expression}`).not.toBeNull();
      }
    }
    expect(strings).toContain(HOSTILE_DEVICE);
    expect(new Set(strings)).toEqual(
      new Set([
        'x-device-id',
        HOSTILE_DEVICE,
        'dev-blocked-1',
        'dev-ep',
        'POST',
        'GET',
        '/api/v1/auth/login',
      ]),
    );
  });

  it('matches templates with regexes that read back exactly (raw strings, \\x{HH} escapes)', () => {
    const regexes = allRules.flatMap((x) =>
      tokens(x.expression)
        .filter((t) => t.t === 'raw')
        .map((t) => cfRegex(t.v)),
    );
    const hits = (v: string): number => regexes.filter((x) => x.test(v)).length;
    expect(hits(`/h/"q';}{$uri}\\/42/a b\nz"#`)).toBe(1);
    // As clients send it: percent-encoded, hex digits in either case.
    expect(hits('/h/%22q%27%3B%7D%7b%24uri%7D%5C/42/a%20b%0Az%22%23')).toBe(1);
    expect(hits(`/h/"q';}{$uri}\\/42/a b\nz`)).toBe(0);
    expect(hits('/h/%22q%27%3B%7D%7B%24uri%7D%5C/42/a%20b%0Az%22')).toBe(0);
    expect(hits('/api/v1/users/42/profile')).toBe(1);
    expect(hits('/api/v1/users/4/2/profile')).toBe(0);
    expect(hits('/api/v2/products/9')).toBe(2); // the challenge and the rate limit
  });

  it('splits long inline sets over several rules within the expression limit', () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      decision(`v${i}`, 'block', { kind: 'ip', value: `2001:db8::${(i + 1).toString(16)}` }),
    );
    const big = exportDecisions('cloudflare', { decisions: many, now: NOW });
    const custom = (json(big, 'cloudflare-rules.json') as typeof rules).http_request_firewall_custom;
    const inline = custom.filter((x) => x.expression.includes('{'));
    expect(inline.length).toBeGreaterThan(1);
    let n = 0;
    for (const x of inline) {
      expect(x.expression.length).toBeLessThanOrEqual(CF_EXPRESSION_MAX);
      n += tokens(x.expression).filter((t) => t.t === 'word' && parseCidr(t.v) !== null).length;
    }
    expect(n).toBe(400);
  });

  it('converts rates into a documented period', () => {
    expect(cfRate({ requests: 5, perSeconds: 60 })).toEqual({ period: 60, requests_per_period: 5 });
    expect(cfRate({ requests: 5, perSeconds: 30 })).toEqual({ period: 60, requests_per_period: 10 });
    expect(cfRate({ requests: 1000, perSeconds: 1 })).toEqual({ period: 10, requests_per_period: 10000 });
    expect(cfRate({ requests: 100, perSeconds: 86400 })).toEqual({ period: 3600, requests_per_period: 5 });
  });

  it('has schemas that reject what Cloudflare rejects', () => {
    const l = structuredClone(lists);
    l[0]!.create.name = 'Apiwarden-Block';
    expect(schema('cloudflare-lists.json').safeParse(l).success).toBe(false);
    const x = structuredClone(rules);
    x.http_request_firewall_custom[0]!.expression = `(${'a'.repeat(CF_EXPRESSION_MAX)})`;
    expect(schema('cloudflare-rules.json').safeParse(x).success).toBe(false);
  });
});
