import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../src/respond/notify.js';
import { cli } from './support/cli.js';

let dir: string;
let sim: string;
let store: string;
let state: string;
let scanner: string;

const json = (s: string) => JSON.parse(s);
const sql = async (q: string) => {
  const r = await cli(['query', '--store', store, '--sql', q, '--output', 'json']);
  expect(r.code, r.stderr).toBe(0);
  // The query command prints cells as text.
  return Object.fromEntries(
    Object.entries(json(r.stdout.trim().split('\n')[0]!)).map(([k, v]) => [k, Number(v)]),
  ) as Record<string, number>;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-respond-'));
  sim = join(dir, 'sim');
  store = join(dir, 'store');
  state = join(dir, 'state');
  const s = await cli([
    'simulate',
    '--out',
    sim,
    '--hours',
    '8',
    '--users',
    '1500',
    '--formats',
    'apisix',
    '--attacks',
    'scanner,crawler,credential_stuffing',
    '--quiet',
  ]);
  expect(s.code, s.stderr).toBe(0);
  const log = join(sim, 'apisix.jsonl');
  expect((await cli(['ingest', log, '--store', store, '--quiet'])).code).toBe(0);
  const a = await cli(['analyze', log, '--out', join(dir, 'out'), '--quiet']);
  expect(a.code, a.stderr).toBe(0);
  const labels = json(await readFile(join(sim, 'labels.json'), 'utf8'));
  scanner = labels.campaigns.find((c: { id: string }) => c.id === 'scanner').actors.ips[0];
}, 180_000);

describe('apiwarden incidents / decide / backtest', () => {
  it('imports incidents idempotently and proposes decisions under the default policy', async () => {
    const file = join(dir, 'out', 'incidents.jsonl');
    const args = [
      'incidents',
      'import',
      file,
      '--state',
      state,
      '--profile',
      join(dir, 'out', 'profile.json'),
      '--json',
    ];
    const first = json((await cli(args)).stdout);
    expect(first.created).toBeGreaterThan(0);
    expect(first.decisions).toBeGreaterThan(0);
    expect(first.active).toBe(0); // the default policy waits for approval
    const again = json((await cli(args)).stdout);
    expect(again).toMatchObject({ created: 0, updated: 0, decisions: 0 });
    const list = (await cli(['incidents', 'list', '--state', state, '--json'])).stdout
      .trim()
      .split('\n')
      .map(json);
    const scan = list.find((i: { actors: { value: string }[] }) => i.actors.some((a) => a.value === scanner));
    expect(scan, 'the scanner has an incident').toBeDefined();
    const shown = await cli(['incidents', 'show', scan.id, '--state', state]);
    expect(shown.stdout).toMatch(/decisions \(\d+\):/);
    expect(shown.stdout).toMatch(/incident\.created/);
  });

  it('backtests a block on the scanner: every request of it, no collateral', async () => {
    const r = await cli([
      'backtest',
      '--store',
      store,
      '--state',
      state,
      '--scope',
      `ip:${scanner}`,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rep = json(r.stdout);
    const n = await sql(`SELECT count(*)::INTEGER AS n FROM events WHERE ip = '${scanner}'`);
    expect(rep.decisions[0].requests).toBe(n.n);
    expect(rep.decisions[0].requests).toBeGreaterThan(100);
    expect(rep.decisions[0]).toMatchObject({ collateralActors: 0, collateralRequests: 0, actors: { ip: 1 } });
  });

  it('backtests a rate limit as only what exceeds it per window', async () => {
    const r = await cli([
      'backtest',
      '--store',
      store,
      '--state',
      state,
      '--scope',
      `ip:${scanner}`,
      '--action',
      'rate_limit',
      '--rate',
      '20/m',
      '--json',
    ]);
    const rep = json(r.stdout);
    const want = await sql(
      `SELECT coalesce(sum(greatest(n - 20, 0)), 0)::INTEGER AS x FROM (SELECT count(*) AS n FROM events WHERE ip = '${scanner}' GROUP BY floor(ts / 60000))`,
    );
    expect(rep.decisions[0].requests).toBe(want.x);
  });

  it('counts the collateral of a too-wide CIDR', async () => {
    const r = await cli([
      'backtest',
      '--store',
      store,
      '--state',
      state,
      '--scope',
      'cidr:0.0.0.0/0',
      '--json',
    ]);
    const rep = json(r.stdout);
    const v4 = await sql("SELECT count(*)::INTEGER AS n FROM events WHERE ip NOT LIKE '%:%'");
    expect(rep.decisions[0].requests).toBe(v4.n);
    expect(rep.decisions[0].collateralActors).toBeGreaterThan(100);
    expect(rep.decisions[0].collateralRequests).toBeGreaterThan(rep.decisions[0].requests / 2);
  });

  it('takes, approves and revokes decisions by hand, with clear errors', async () => {
    const bad = await cli([
      'decide',
      '--state',
      state,
      '--action',
      'block',
      '--scope',
      "ip:1.2.3.4'; DROP TABLE x",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not an IP address/);
    const both = await cli(['decide', '--state', state, '--list', '--expire']);
    expect(both.stderr).toMatch(/give exactly one of/);
    const made = await cli([
      'decide',
      '--state',
      state,
      '--action',
      'rate_limit',
      '--scope',
      'cidr:203.0.113.0/24',
      '--rate',
      '30/m',
      '--ttl',
      '2h',
      '--json',
    ]);
    expect(made.code, made.stderr).toBe(0);
    const d = json(made.stdout);
    expect(d).toMatchObject({
      action: 'rate_limit',
      status: 'active',
      rateLimit: { requests: 30, perSeconds: 60 },
    });
    const proposed = (
      await cli(['decide', '--state', state, '--list', '--status', 'proposed', '--json'])
    ).stdout
      .trim()
      .split('\n')
      .map(json);
    const ok = await cli(['decide', '--state', state, '--approve', proposed[0].id, '--json']);
    expect(json(ok.stdout)).toMatchObject({ id: proposed[0].id, status: 'active' });
    const twice = await cli(['decide', '--state', state, '--approve', proposed[0].id]);
    expect(twice.stderr).toMatch(/is active; only a proposed decision can be approved/);
    expect((await cli(['decide', '--state', state, '--revoke', d.id])).code).toBe(0);
    const audit = await cli(['incidents', 'audit', '--state', state, '--verify']);
    expect(audit.stdout).toMatch(/intact/);
  });

  it('notifies a signed webhook of new incidents and decisions on import', async () => {
    const got: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        got.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const secret = 'a-long-enough-shared-secret';
    const config = join(dir, 'notify.yaml');
    await writeFile(
      config,
      `notifications:\n  channels:\n    - name: soc\n      kind: webhook\n      url: http://127.0.0.1:${port}/hook\n      secretEnv: AW_TEST_SECRET\n      minSeverity: high\n`,
    );
    process.env.AW_TEST_SECRET = secret;
    try {
      const r = await cli([
        'incidents',
        'import',
        join(dir, 'out', 'incidents.jsonl'),
        '--state',
        join(dir, 'state-n'),
        '--config',
        config,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/notifications: \d+ delivered, 0 failed/);
    } finally {
      delete process.env.AW_TEST_SECRET;
      server.close();
    }
    expect(got.length).toBeGreaterThan(0);
    const kinds = new Set(got.map((g) => JSON.parse(g.body).event));
    expect(kinds.has('incident.new')).toBe(true);
    for (const g of got) {
      const ts = String(g.headers['x-apiwarden-timestamp']);
      expect(
        verifySignature(secret, ts, g.body, String(g.headers['x-apiwarden-signature']), Date.now()),
      ).toBe(true);
      const data = JSON.parse(g.body).data;
      // Only high and critical incidents pass the channel's filter.
      if (JSON.parse(g.body).event === 'incident.new') expect(['high', 'critical']).toContain(data.severity);
    }
  });

  it('exports active decisions as configuration, and says what a target cannot express', async () => {
    const st = join(dir, 'state-x');
    await cli(['decide', '--state', st, '--action', 'block', '--scope', 'ip:203.0.113.9', '--ttl', '1h']);
    await cli(['decide', '--state', st, '--action', 'block', '--scope', 'token:0123456789abcdef']);
    const out = join(dir, 'waf');
    const r = await cli(['export', '--state', st, '--target', 'nginx', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.active).toBe(2);
    expect(res.skipped).toHaveLength(1);
    expect(res.skipped[0].reason).toMatch(/token scope/);
    const conf = await readFile(join(out, 'apiwarden-http.conf'), 'utf8');
    expect(conf).toMatch(/203\.0\.113\.9/);
    const bl = await cli(['export', '--state', st, '--target', 'blocklist', '--out', out]);
    expect(bl.code).toBe(0);
    expect((await readFile(join(out, 'apiwarden-blocklist.txt'), 'utf8')).split('\n')).toContain(
      '203.0.113.9',
    );
    const bad = await cli(['export', '--state', st, '--target', 'iptables', '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--target must be one of modsecurity, nginx, aws-waf, cloudflare, blocklist/);
  });
});
