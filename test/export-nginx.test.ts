/**
 * The nginx and ModSecurity exporters against the real engines: Debian's nginx and its ModSecurity v3
 * connector (libnginx-mod-http-modsecurity over libmodsecurity3). Generated files that merely look right
 * prove nothing: here nginx must accept them (`nginx -t`), then answer real requests with exactly the
 * statuses the decisions call for, and 200 for everyone else.
 *
 * One nginx, two servers: port A enforces the nginx exporter's files (geo/map/limit_req), port B the
 * ModSecurity exporter's rules file (`modsecurity on`), so each exporter is tested on its own.
 *
 * Forged clients: nginx believes X-Forwarded-For from 127.0.0.1 (`set_real_ip_from 127.0.0.1;
 * real_ip_header X-Forwarded-For;`, ngx_http_realip_module is built into Debian's nginx), so a loopback
 * request can present itself as 203.0.113.7 or 2001:db8::5. ModSecurity's REMOTE_ADDR follows that: the
 * connector reads the connection's address after realip rewrote it in the post-read phase (checked by hand
 * before writing this, and proved here: were it not so, the ModSecurity address cases would see 127.0.0.1
 * and answer 200). So no extra loopback addresses are needed.
 *
 * Requests go over a raw socket so that the test controls every byte (UTF-8 header values, percent-encoded
 * paths), and with `Connection: close`, one per connection.
 *
 * The test fails (it does not skip) when nginx or the module is missing: install them with
 * `apt-get install -y nginx libnginx-mod-http-modsecurity` (.ci/run does).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDecisions } from '../src/respond/export/index.js';
import type { Decision, ExportResult } from '../src/respond/types.js';

const MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';
const INSTALL = 'apt-get install -y nginx libnginx-mod-http-modsecurity';
const NOW = Date.UTC(2026, 0, 15);

/** A device id written to break out of every syntax it could land in. */
const HOSTILE_DEVICE = `evil"; } default 1; map $x $y { ~.* 1; } %{REMOTE_ADDR} \\ 'é' ,# \u2028`;
/** The same for an endpoint template (one `{id}` parameter; %0A is a newline once decoded). */
const HOSTILE_TEMPLATE = `/h/"q';}{$uri}\\/{id}/a b%0Az`;
/** A request path for it: the decoded path, every byte outside [A-Za-z0-9/_-] percent-encoded. */
const HOSTILE_PATH = encodePath(`/h/"q';}{$uri}\\/42/a b\nz`);

function encodePath(p: string): string {
  return [...Buffer.from(p, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9/_-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

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
    expiresTs: NOW + 3_600_000,
    offence: 1,
    ...extra,
  };
}

const DECISIONS: Decision[] = [
  decision('ip', 'block', { kind: 'ip', value: '203.0.113.7' }),
  decision('cidr', 'block', { kind: 'cidr', value: '198.18.0.0/15' }),
  decision('v6', 'block', { kind: 'ip', value: '2001:DB8:0:0::5' }),
  decision('v6net', 'block', { kind: 'cidr', value: '2001:db8:bad::/48' }),
  decision('dev', 'block', { kind: 'device', value: 'dev-blocked-1' }),
  decision('hostile-dev', 'block', { kind: 'device', value: HOSTILE_DEVICE }),
  decision('dev-default', 'block', { kind: 'device', value: 'default' }),
  decision('dev-regex', 'block', { kind: 'device', value: '~.*' }),
  decision('ep', 'block', { kind: 'ip', value: '203.0.113.20', endpoint: 'POST /api/v1/users/{id}/profile' }),
  decision('ep-dev', 'block', { kind: 'device', value: 'dev-ep', endpoint: 'GET /api/v2/products/{id}' }),
  decision('hostile-ep', 'block', { kind: 'ip', value: '203.0.113.30', endpoint: `GET ${HOSTILE_TEMPLATE}` }),
  decision('plus', 'block', { kind: 'ip', value: '203.0.113.40', endpoint: 'GET /api/c++/{id}' }),
  decision('chal', 'challenge', { kind: 'ip', value: '192.0.2.44' }),
  decision(
    'rl',
    'rate_limit',
    { kind: 'ip', value: '198.51.100.9' },
    { rateLimit: { requests: 5, perSeconds: 60 } },
  ),
  decision(
    'rl-dev',
    'rate_limit',
    { kind: 'device', value: 'dev-rl', endpoint: 'GET /api/v2/products/{id}' },
    { rateLimit: { requests: 2, perSeconds: 60 } },
  ),
  // Left out: expired, and not active.
  decision('old', 'block', { kind: 'ip', value: '203.0.113.99' }, { expiresTs: NOW - 1 }),
  decision('prop', 'block', { kind: 'ip', value: '203.0.113.98' }, { status: 'proposed' }),
  // Skipped: no request header can carry a newline; an address that is not one; a token.
  decision('dev-nl', 'block', { kind: 'device', value: 'dev\n} default 1;' }),
  decision('bad-ip', 'block', { kind: 'ip', value: '203.0.113.7"; return 200; #' }),
  decision('tok', 'block', { kind: 'token', value: '0123456789abcdef' }),
];

interface Req {
  ip?: string;
  method?: string;
  path?: string;
  device?: string;
}

/** One HTTP/1.1 request on its own connection; resolves with the status code. */
function request(port: number, r: Req = {}): Promise<number> {
  const lines = [
    `${r.method ?? 'GET'} ${r.path ?? '/'} HTTP/1.1`,
    'Host: apiwarden.test',
    'Connection: close',
  ];
  if (r.ip !== undefined) lines.push(`X-Forwarded-For: ${r.ip}`);
  if (r.device !== undefined) lines.push(`X-Device-Id: ${r.device}`);
  if (r.method === 'POST') lines.push('Content-Length: 0');
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.setTimeout(3000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (b: Buffer) => {
      got += b.toString('latin1');
    });
    sock.on('error', reject);
    sock.on('close', () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`no HTTP status in ${JSON.stringify(got.slice(0, 200))}`));
    });
    sock.end(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, nginx: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited (${nginx.exitCode}):\n${readLog(log)}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}:\n${readLog(log)}`);
}

const readLog = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8').slice(-4000) : '(no log)');

function findNginx(): string {
  const r = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' });
  const bin = r.stdout.trim().split('\n')[0] ?? '';
  if (r.status !== 0 || bin === '') throw new Error(`nginx is not installed: run \`${INSTALL}\``);
  if (!existsSync(MODULE)) throw new Error(`the ModSecurity module ${MODULE} is missing: run \`${INSTALL}\``);
  return bin;
}

let dir = '';
let nginxBin = '';
let conf = '';
let errorLog = '';
let nginx: ChildProcess | null = null;
let nginxPort = 0;
let modsecPort = 0;
let nginxExport: ExportResult;
let modsecExport: ExportResult;

beforeAll(async () => {
  nginxBin = findNginx();
  dir = mkdtempSync(join(tmpdir(), 'apiwarden-nginx-'));
  errorLog = join(dir, 'error.log');
  nginxExport = exportDecisions('nginx', { decisions: DECISIONS, now: NOW });
  modsecExport = exportDecisions('modsecurity', { decisions: DECISIONS, now: NOW });
  for (const f of [...nginxExport.files, ...modsecExport.files]) writeFileSync(join(dir, f.path), f.content);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  [nginxPort, modsecPort] = [await freePort(), await freePort()];
  conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `load_module ${MODULE};
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${errorLog} notice;
events { worker_connections 64; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    include ${dir}/apiwarden-http.conf;

    # The nginx exporter. \`return\` answers in the rewrite phase, before limit_req (preaccess) could count
    # the request, so the 200 comes from a named location reached through try_files, after preaccess.
    server {
        listen 127.0.0.1:${nginxPort};
        include ${dir}/apiwarden-server.conf;
        location / { try_files /.apiwarden-none @ok; }
        location @ok { return 200 "ok"; }
    }

    # The ModSecurity exporter.
    server {
        listen 127.0.0.1:${modsecPort};
        modsecurity on;
        modsecurity_rules 'SecRuleEngine On';
        modsecurity_rules_file ${dir}/apiwarden.conf;
        location / { return 200 "ok"; }
    }
}
`,
  );
  // Whether it starts or not, the exporters' output was written; check the syntax first for a clear error.
  const t = spawnSync(nginxBin, ['-t', '-p', dir, '-e', errorLog, '-c', conf], { encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`nginx -t rejected the generated configuration:\n${t.stderr}`);
  nginx = spawn(nginxBin, ['-p', dir, '-e', errorLog, '-c', conf], { stdio: 'ignore' });
  await waitForPort(nginxPort, nginx, errorLog);
  await waitForPort(modsecPort, nginx, errorLog);
}, 15_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((r) => nginx!.once('exit', r));
    nginx.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (nginx.exitCode === null) nginx.kill('SIGKILL');
  }
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the generated files', () => {
  it('pass nginx -t, hostile strings included', () => {
    const t = spawnSync(nginxBin, ['-t', '-p', dir, '-e', errorLog, '-c', conf], { encoding: 'utf8' });
    expect(t.stderr).toContain('test is successful');
    expect(t.status).toBe(0);
  });

  it('skip what no request can match and leave out expired and inactive decisions', () => {
    for (const r of [nginxExport, modsecExport]) {
      const skipped = r.skipped.map((s) => s.decision);
      expect(skipped).toEqual(expect.arrayContaining(['bad-ip', 'dev-nl', 'tok']));
      expect(skipped).not.toContain('old');
      expect(skipped).not.toContain('prop');
      const all = r.files.map((f) => f.content).join('\n');
      expect(all).not.toContain('203.0.113.99');
      expect(all).not.toContain('203.0.113.98');
    }
  });
});

/** The cases both exporters must get right (rate limits aside). */
function blockCases(port: () => number): void {
  it('blocks the listed IPv4 address and CIDR, and no neighbour', async () => {
    expect(await request(port(), { ip: '203.0.113.7' })).toBe(403);
    expect(await request(port(), { ip: '198.19.1.2' })).toBe(403);
    expect(await request(port(), { ip: '198.18.0.1' })).toBe(403);
    expect(await request(port(), { ip: '203.0.113.8' })).toBe(200);
    expect(await request(port(), { ip: '198.20.0.1' })).toBe(200);
    expect(await request(port())).toBe(200);
  });

  it('blocks the listed IPv6 address and network', async () => {
    expect(await request(port(), { ip: '2001:db8::5' })).toBe(403);
    expect(await request(port(), { ip: '2001:db8:bad:1::1' })).toBe(403);
    expect(await request(port(), { ip: '2001:db8::6' })).toBe(200);
    expect(await request(port(), { ip: '2001:db8:bae::1' })).toBe(200);
  });

  it('blocks a device id exactly (case-sensitive), and not other devices', async () => {
    expect(await request(port(), { device: 'dev-blocked-1' })).toBe(403);
    expect(await request(port(), { device: 'DEV-BLOCKED-1' })).toBe(200);
    expect(await request(port(), { device: 'dev-blocked-10' })).toBe(200);
    expect(await request(port(), { device: 'dev-blocked-' })).toBe(200);
  });

  it('blocks the hostile device id as written, and it opens no hole ("default", "~.*" included)', async () => {
    expect(await request(port(), { device: HOSTILE_DEVICE })).toBe(403);
    expect(await request(port(), { device: 'default' })).toBe(403);
    expect(await request(port(), { device: '~.*' })).toBe(403);
    expect(await request(port(), { device: 'evil' })).toBe(200);
    expect(await request(port(), { device: `${HOSTILE_DEVICE}x` })).toBe(200);
    expect(await request(port(), { device: 'anything-else' })).toBe(200);
    expect(await request(port(), { device: 'dev' })).toBe(200);
  });

  it('blocks an endpoint-scoped actor on that method and path only', async () => {
    const ip = '203.0.113.20';
    expect(await request(port(), { ip, method: 'POST', path: '/api/v1/users/42/profile' })).toBe(403);
    expect(await request(port(), { ip, method: 'POST', path: '/api/v1/users/42/%70rofile' })).toBe(403);
    expect(await request(port(), { ip, method: 'GET', path: '/api/v1/users/42/profile' })).toBe(200);
    expect(await request(port(), { ip, method: 'POST', path: '/api/v1/users/42/profile/x' })).toBe(200);
    expect(await request(port(), { ip, method: 'POST', path: '/api/v1/users/profile' })).toBe(200);
    expect(await request(port(), { ip, method: 'POST', path: '/' })).toBe(200);
    expect(
      await request(port(), { ip: '203.0.113.21', method: 'POST', path: '/api/v1/users/42/profile' }),
    ).toBe(200);
    const device = 'dev-ep';
    expect(await request(port(), { device, path: '/api/v2/products/7' })).toBe(403);
    expect(await request(port(), { device, path: '/api/v2/products' })).toBe(200);
    expect(await request(port(), { device: 'dev-ep2', path: '/api/v2/products/7' })).toBe(200);
  });

  it('blocks the hostile endpoint as written, and nothing else', async () => {
    const ip = '203.0.113.30';
    expect(await request(port(), { ip, path: HOSTILE_PATH })).toBe(403);
    expect(await request(port(), { ip, path: HOSTILE_PATH.replace('42', 'abc') })).toBe(403);
    expect(await request(port(), { ip, path: HOSTILE_PATH.replace('%0Az', '%0Ay') })).toBe(200);
    expect(await request(port(), { ip, path: HOSTILE_PATH.replace('%0Az', '') })).toBe(200);
    expect(await request(port(), { ip, method: 'POST', path: HOSTILE_PATH })).toBe(200);
    expect(await request(port(), { ip: '203.0.113.31', path: HOSTILE_PATH })).toBe(200);
  });

  it('keeps a literal + in a template (ModSecurity decodes + to a space first)', async () => {
    const ip = '203.0.113.40';
    expect(await request(port(), { ip, path: '/api/c++/1' })).toBe(403);
    expect(await request(port(), { ip, path: '/api/c%2B%2b/1' })).toBe(403);
    expect(await request(port(), { ip, path: '/api/c/1' })).toBe(200);
    expect(await request(port(), { ip, path: '/api/c++/1/2' })).toBe(200);
  });

  it('answers a challenged client 401', async () => {
    expect(await request(port(), { ip: '192.0.2.44' })).toBe(401);
    expect(await request(port(), { ip: '192.0.2.45' })).toBe(200);
  });

  it('lets expired and inactive decisions go', async () => {
    expect(await request(port(), { ip: '203.0.113.99' })).toBe(200);
    expect(await request(port(), { ip: '203.0.113.98' })).toBe(200);
  });
}

describe('nginx exporter on nginx', () => {
  blockCases(() => nginxPort);

  it('rate-limits the named address with 429 after its allowance, and no one else', async () => {
    const got: number[] = [];
    for (let i = 0; i < 7; i++) got.push(await request(nginxPort, { ip: '198.51.100.9' }));
    expect(got).toEqual([200, 200, 200, 200, 200, 429, 429]);
    for (let i = 0; i < 7; i++) expect(await request(nginxPort, { ip: '198.51.100.10' })).toBe(200);
  });

  it('rate-limits a device on its endpoint only', async () => {
    const device = 'dev-rl';
    const got: number[] = [];
    for (let i = 0; i < 4; i++) got.push(await request(nginxPort, { device, path: `/api/v2/products/${i}` }));
    expect(got).toEqual([200, 200, 429, 429]);
    for (let i = 0; i < 4; i++) expect(await request(nginxPort, { device, path: '/api/v2/other' })).toBe(200);
    for (let i = 0; i < 4; i++)
      expect(await request(nginxPort, { device: 'dev-rl2', path: '/api/v2/products/1' })).toBe(200);
  });
});

describe('ModSecurity exporter on nginx + libmodsecurity', () => {
  blockCases(() => modsecPort);

  it('skips rate limits with the reason (nginx limit_req does them), so they do not block', async () => {
    for (const id of ['rl', 'rl-dev']) {
      const s = modsecExport.skipped.find((x) => x.decision === id);
      expect(s?.reason).toMatch(/^rate_limit: .*limit_req/);
    }
    for (let i = 0; i < 7; i++) expect(await request(modsecPort, { ip: '198.51.100.9' })).toBe(200);
  });
});
