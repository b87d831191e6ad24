/**
 * What every exporter must do whatever its target: export only active, unexpired decisions, once, in an
 * order that does not depend on the input's (so re-exports diff cleanly); validate addresses strictly and
 * print them canonically; skip, with the reason, what the target cannot express; and never let a value
 * from traffic change the structure of the file — checked here line by line on the text formats (the
 * engines themselves load them in export-nginx.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { jsonFile, parseEndpoint, parseNet } from '../src/respond/export/common.js';
import {
  EXPORT_TARGETS,
  type ExportTarget,
  exportDecisions,
  isExportTarget,
} from '../src/respond/export/index.js';
import { RULE_ID_MAX, RULE_ID_MIN } from '../src/respond/export/modsecurity.js';
import { nginxRate } from '../src/respond/export/nginx.js';
import type { Decision } from '../src/respond/types.js';

const NOW = Date.UTC(2026, 0, 15);

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
    ...(action === 'rate_limit' ? { rateLimit: { requests: 10, perSeconds: 60 } } : {}),
    ...extra,
  };
}

/** Strings written to break every syntax, including comments (newlines) and nginx map keywords. */
const HOSTILE = [
  `evil"; } default 1; map $x $y { ~.* 1; } %{REMOTE_ADDR} \\ 'é' ,#`,
  'default',
  '~.*',
  'a\\',
  '"',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an nginx variable, on purpose
  '${http_host}',
];
const HOSTILE_ENDPOINT =
  'GET /x/"}; return 200; #\n  SecRule REMOTE_ADDR "@unconditionalMatch" "id:1,deny"\n/{id}\\';

const SAMPLE: Decision[] = [
  decision('a-ip', 'block', { kind: 'ip', value: '203.0.113.7' }),
  decision('b-cidr', 'block', { kind: 'cidr', value: '10.1.2.3/8' }),
  decision('c-v6', 'block', { kind: 'ip', value: '2001:0DB8:0000:0000:0000:0000:0000:0005' }),
  decision('d-chal', 'challenge', { kind: 'cidr', value: '2001:db8:cafe::/64' }),
  decision('e-rl', 'rate_limit', { kind: 'ip', value: '198.51.100.9', endpoint: 'POST /api/v1/auth/login' }),
  decision('f-dev', 'block', { kind: 'device', value: 'dev-1' }),
  decision('g-tok', 'block', { kind: 'token', value: '0123456789abcdef' }),
  decision('h-user', 'challenge', { kind: 'user', value: 'alice' }),
  ...HOSTILE.map((v, i) => decision(`i-hostile-${i}`, 'block', { kind: 'device', value: v })),
  decision('j-hostile-ep', 'block', { kind: 'ip', value: '203.0.113.30', endpoint: HOSTILE_ENDPOINT }),
  decision('k-expired', 'block', { kind: 'ip', value: '203.0.113.99' }, { expiresTs: NOW }),
  decision('l-revoked', 'block', { kind: 'ip', value: '203.0.113.98' }, { status: 'revoked' }),
  decision('m-proposed', 'block', { kind: 'ip', value: '203.0.113.97' }, { status: 'proposed' }),
];

const run = (target: ExportTarget, decisions: Decision[] = SAMPLE) =>
  exportDecisions(target, { decisions, now: NOW });

describe('exportDecisions', () => {
  it('knows its five targets and refuses others', () => {
    expect(EXPORT_TARGETS).toEqual(['modsecurity', 'nginx', 'aws-waf', 'cloudflare', 'blocklist']);
    expect(isExportTarget('nginx')).toBe(true);
    expect(isExportTarget('iptables')).toBe(false);
    expect(() => exportDecisions('iptables' as ExportTarget, { decisions: [] })).toThrow(
      /unknown export target "iptables"/,
    );
  });

  it.each(EXPORT_TARGETS)(
    '%s: same output whatever the input order, and for an empty input too',
    (target) => {
      const a = run(target);
      const b = run(target, [...SAMPLE].reverse());
      expect(b).toEqual(a);
      const empty = run(target, []);
      expect(empty.skipped).toEqual([]);
      expect(empty.files.length).toBeGreaterThan(0);
    },
  );

  it.each(EXPORT_TARGETS)('%s: leaves out expired and inactive decisions (not even as skipped)', (target) => {
    const r = run(target);
    const text = r.files.map((f) => f.content).join('\n');
    for (const ip of ['203.0.113.99', '203.0.113.98', '203.0.113.97']) expect(text).not.toContain(ip);
    expect(r.skipped.map((s) => s.decision)).not.toEqual(expect.arrayContaining(['k-expired']));
  });

  it.each(EXPORT_TARGETS)('%s: skips token and user scopes with the reason', (target) => {
    const r = run(target);
    expect(r.skipped.find((s) => s.decision === 'g-tok')?.reason).toMatch(
      /^token scope: .*enforce at the gateway$/,
    );
    expect(r.skipped.find((s) => s.decision === 'h-user')?.reason).toMatch(/^user scope: .*JWT.*gateway$/);
  });

  it.each(EXPORT_TARGETS)('%s: skips invalid addresses and exports a duplicate id once', (target) => {
    const r = run(target, [
      decision('x', 'block', { kind: 'ip', value: '203.0.113.7"; deny all; #' }),
      decision('y', 'block', { kind: 'ip', value: 'fe80::1%eth0' }),
      decision('z', 'block', { kind: 'cidr', value: '0.0.0.0/0' }),
      decision('w', 'block', { kind: 'ip', value: '10.0.0.0/8' }),
      decision('v', 'block', { kind: 'cidr', value: '10.0.0.0/' }),
      decision('dup', 'block', { kind: 'ip', value: '192.0.2.1' }),
      decision('dup', 'block', { kind: 'ip', value: '192.0.2.2' }),
    ]);
    const reasons = Object.fromEntries(r.skipped.map((s) => [s.decision, s.reason]));
    expect(reasons.x).toMatch(/^invalid ip /);
    expect(reasons.y).toMatch(/^invalid ip /);
    expect(reasons.z).toMatch(/every address/);
    expect(reasons.w).toMatch(/use a cidr scope/);
    expect(reasons.v).toMatch(/^invalid cidr /);
    expect(reasons.dup).toMatch(/duplicate/);
    expect(r.files.map((f) => f.content).join('\n')).not.toContain('deny all');
  });

  it('refuses a device header that is not a plain header name', () => {
    expect(() => exportDecisions('nginx', { decisions: [], deviceHeader: 'x-dev"; }' })).toThrow(
      /invalid deviceHeader/,
    );
    expect(() => exportDecisions('nginx', { decisions: [], deviceHeader: 'x_dev' })).toThrow(
      /invalid deviceHeader/,
    );
  });

  it('uses the configured device header in every target', () => {
    const decisions = [decision('d', 'block', { kind: 'device', value: 'dev-1' })];
    const text = (t: ExportTarget): string =>
      exportDecisions(t, { decisions, now: NOW, deviceHeader: 'X-Client-Device' })
        .files.map((f) => f.content)
        .join('');
    expect(text('nginx')).toContain('map $http_x_client_device ');
    expect(text('modsecurity')).toContain('SecRule REQUEST_HEADERS:x-client-device ');
    expect(text('aws-waf')).toContain('"Name": "x-client-device"');
    expect(text('cloudflare')).toContain('http.request.headers[\\"x-client-device\\"]');
  });
});

describe('addresses and endpoints', () => {
  it('prints addresses canonically from their numeric form', () => {
    const text = (kind: 'ip' | 'cidr', v: string): string => {
      const n = parseNet(kind, v);
      return typeof n === 'string' ? `! ${n}` : n.text;
    };
    expect(text('ip', '2001:0DB8:0000:0000:0000:0000:0000:0005')).toBe('2001:db8::5');
    expect(text('ip', '2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(text('ip', '::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(text('cidr', '::ffff:192.0.2.0/120')).toBe('192.0.2.0/24');
    expect(text('ip', '::1')).toBe('::1');
    expect(text('cidr', '10.1.2.3/8')).toBe('10.0.0.0/8');
    expect(text('cidr', '2001:db8:1:2:3:4:5:6/48')).toBe('2001:db8:1::/48');
    expect(text('cidr', '203.0.113.7/32')).toBe('203.0.113.7');
    expect(text('cidr', '203.0.113.7')).toBe('203.0.113.7');
    expect(text('ip', '1.2.3.4 ')).toMatch(/^! invalid/);
    expect(text('ip', '01.2.3.4')).toMatch(/^! invalid/);
    expect(text('cidr', '1.2.3.4/33')).toMatch(/^! invalid/);
    expect(text('cidr', '::/0')).toMatch(/every address/);
  });

  it('parses endpoint templates: {param} is one segment, the rest is decoded', () => {
    const ep = parseEndpoint('GET /api/v2/products/{id}/%7Bx%7D.json');
    expect(typeof ep).toBe('object');
    if (typeof ep === 'string') return;
    expect(ep.method).toBe('GET');
    expect(ep.parts.map((p) => (p === null ? null : p.toString('utf8')))).toEqual([
      '/api/v2/products/',
      null,
      '/{x}.json',
    ]);
    expect(parseEndpoint('get /x')).toMatch(/upper-case method/);
    expect(parseEndpoint('GET x')).toMatch(/must start with/);
    expect(parseEndpoint('/x')).toMatch(/expected 'METHOD/);
  });
});

describe('text formats resist hostile values', () => {
  it('nginx: every line is a comment, a known directive or a map/geo entry; device ids only as hex regexes', () => {
    const r = run('nginx');
    for (const f of r.files) {
      for (const line of f.content.split('\n')) {
        expect(line, `${f.path}: ${line}`).toMatch(
          /^(|#[ -~]*|\}| {4}default (0|"");| {4}[0-9a-f.:/]+ 1;| {4}"(\\\\x[0-9a-f]{2}|[A-Za-z0-9_/~^:+[\]-]|\\\\z)*" (1|\$binary_remote_addr|\$http_x_device_id);| {4}1 \$binary_remote_addr;|(geo|map) [$"][a-z0-9_$:" ]+ \{|limit_req_zone \$apiwarden_k_[0-9a-f]{10} zone=apiwarden_[0-9a-f]{10}:\d+m rate=\d+r\/[sm];|limit_req zone=apiwarden_[0-9a-f]{10}( burst=\d+)? nodelay;|limit_req_status 429;|if \(\$apiwarden_(block|challenge)\) \{| {4}return 40[13];| {4}"~1" 1;)$/,
        );
      }
    }
    expect(r.skipped.filter((s) => s.decision.startsWith('i-hostile'))).toEqual([]);
  });

  it('ModSecurity: every line is a comment or a SecRule with escaped arguments (ASCII punctuation as \\xHH); ids unique and in range', () => {
    const r = run('modsecurity');
    const text = r.files[0]!.content;
    const lines = text.split('\n');
    for (const line of lines) {
      expect(line).toMatch(
        /^(|#[ -~]*|\s*SecRule (REMOTE_ADDR|REQUEST_HEADERS:x-device-id|REQUEST_METHOD|REQUEST_FILENAME) "@(ipMatch [0-9a-f.:/,]+|streq [A-Z]+|rx \\A(\\x[0-9a-f]{2}|[A-Za-z0-9_/-]|[^\x00-\x7f]|\[\^\/\]\+)*\\z)" \\|\s*"[A-Za-z0-9_:,'/. -]+")$/,
      );
      expect(line).not.toContain('%{');
    }
    // (The hostile endpoint's `"id:1,deny"` shows in a comment, harmlessly: only rule lines count.)
    const rulesText = lines.filter((l) => !l.startsWith('#')).join('\n');
    const ids = [...rulesText.matchAll(/"id:(\d+),/g)].map((m) => Number(m[1]));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toBeGreaterThanOrEqual(RULE_ID_MIN);
      expect(id).toBeLessThanOrEqual(RULE_ID_MAX);
    }
    expect(r.skipped.find((s) => s.decision === 'e-rl')?.reason).toMatch(/^rate_limit: .*limit_req$/);
  });

  it('ModSecurity: groups address blocks by 500 in @ipMatch rules', () => {
    const many = Array.from({ length: 1001 }, (_, i) =>
      decision(`n${i}`, 'block', { kind: 'ip', value: `10.0.${i >> 8}.${i & 255}` }),
    );
    const text = run('modsecurity', many).files[0]!.content;
    const groups = [...text.matchAll(/"@ipMatch ([^"]+)"/g)].map((m) => m[1]!.split(',').length);
    expect(groups).toEqual([500, 500, 1]);
    expect([...text.matchAll(/"id:(\d+),/g)].map((m) => m[1])).toEqual(['4200000', '4200001', '4200002']);
  });

  it('blocklist: the block addresses only, sorted numerically and deduplicated', () => {
    const r = run('blocklist', [
      ...SAMPLE,
      decision('n-dup', 'block', { kind: 'cidr', value: '10.0.0.0/8' }),
      decision('o-v4', 'block', { kind: 'ip', value: '9.9.9.9' }),
    ]);
    const lines = r.files[0]!.content.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual(['9.9.9.9', '10.0.0.0/8', '203.0.113.7', '2001:db8::5']);
    const reasons = Object.fromEntries(r.skipped.map((s) => [s.decision, s.reason]));
    expect(reasons['d-chal']).toMatch(/can only block/);
    expect(reasons['e-rl']).toMatch(/can only block/);
    expect(reasons['f-dev']).toMatch(/addresses only/);
    expect(reasons['j-hostile-ep']).toMatch(/endpoint/);
  });

  it('comments never carry a newline or a backslash from a decision', () => {
    for (const target of ['nginx', 'modsecurity', 'blocklist'] as const) {
      for (const f of run(target).files) {
        for (const line of f.content.split('\n')) {
          if (line.trimStart().startsWith('#')) expect(line).toMatch(/^\s*#[^\\]*$/);
        }
        expect(f.content).not.toMatch(/^\s*SecRule REMOTE_ADDR "@unconditionalMatch"/m);
        expect(f.content).not.toMatch(/^\s*\/\{id\}/m);
      }
    }
  });
});

describe('JSON files', () => {
  it('write invisible and line-breaking characters as escapes, without changing the value', () => {
    const v = { s: `a\u2028b\u202ec\u0085d\u{e0001}e\u0007f\u007fg é` };
    const text = jsonFile(v);
    expect(JSON.parse(text)).toEqual(v);
    expect(text).toMatch(/^[\n -~é]*$/);
    expect(text).toContain('\\udb40\\udc01');
  });
});

describe('rates', () => {
  it('nginx: whole requests per second or minute, with the allowance as burst', () => {
    expect(nginxRate({ requests: 5, perSeconds: 60 })).toEqual({ rate: '5r/m', burst: 4 });
    expect(nginxRate({ requests: 120, perSeconds: 60 })).toEqual({ rate: '2r/s', burst: 119 });
    expect(nginxRate({ requests: 3, perSeconds: 10 })).toEqual({ rate: '18r/m', burst: 2 });
    expect(nginxRate({ requests: 10, perSeconds: 3600 })).toEqual({ rate: '1r/m', burst: 9 });
    expect(nginxRate({ requests: 7, perSeconds: 9 })).toEqual({ rate: '47r/m', burst: 6 });
    expect(nginxRate({ requests: 1, perSeconds: 1 })).toEqual({ rate: '1r/s', burst: 0 });
  });

  it.each(EXPORT_TARGETS)('%s: skips malformed rate limits', (target) => {
    const r = run(target, [
      decision(
        'r1',
        'rate_limit',
        { kind: 'ip', value: '192.0.2.1' },
        { rateLimit: { requests: 0, perSeconds: 60 } },
      ),
      decision(
        'r2',
        'rate_limit',
        { kind: 'ip', value: '192.0.2.2' },
        { rateLimit: { requests: 5, perSeconds: Number.NaN } },
      ),
      decision('r3', 'rate_limit', { kind: 'ip', value: '192.0.2.3' }, { rateLimit: undefined }),
    ]);
    expect(r.skipped.map((s) => s.reason)).toEqual([
      'invalid rateLimit.requests "0"',
      'invalid rateLimit.perSeconds "NaN"',
      'rate_limit without a rateLimit',
    ]);
  });
});
