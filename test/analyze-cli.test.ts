import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, cli } from './support/cli.js';

let dir: string;
let sim: string;
let out: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-analyze-'));
  sim = join(dir, 'sim');
  out = join(dir, 'out');
  const r = await cli([
    'simulate',
    '--out',
    sim,
    '--hours',
    '8',
    '--users',
    '1500',
    '--formats',
    'apisix,combined',
    '--quiet',
  ]);
  expect(r.code).toBe(0);
  const a = await bin(['analyze', join(sim, 'apisix.jsonl'), '--out', out]);
  expect(a.code, a.stderr).toBe(0);
}, 120_000);

describe('apiwarden analyze', () => {
  it('writes every output file and prints the incidents', async () => {
    for (const f of [
      'alerts.jsonl',
      'incidents.jsonl',
      'anomalies.jsonl',
      'request-scores.jsonl',
      'inventory.json',
      'profile.json',
      'summary.json',
      'report.html',
    ])
      expect(existsSync(join(out, f)), f).toBe(true);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ kind: 'apiwarden-analysis', version: 1, malformed: 0 });
    expect(summary.actors.total).toBeGreaterThan(1000);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/<svg role="img" aria-label="Requests per hour"/);
    // No script at all, and traffic strings only as text: the scanner's payloads are escaped.
    expect(html).not.toMatch(/<script/i);
  });

  it('judges in one pass against a saved profile, and reads stdin then', async () => {
    const out2 = join(dir, 'out2');
    const input = await readFile(join(sim, 'apisix.jsonl'));
    const r = await cli(['analyze', '--profile', join(out, 'profile.json'), '--out', out2, '--quiet'], input);
    expect(r.code, r.stderr).toBe(0);
    const a = (await readFile(join(out, 'alerts.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    const b = (await readFile(join(out2, 'alerts.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(b).toEqual(a);
  });

  it('refuses stdin without a profile, a missing profile, and a file that is not a profile', async () => {
    const r1 = await cli(['analyze', '--out', join(dir, 'x')], 'a line\n');
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/reads its input twice/);
    const r2 = await cli([
      'analyze',
      join(sim, 'apisix.jsonl'),
      '--out',
      join(dir, 'x'),
      '--profile',
      join(dir, 'nope.json'),
    ]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/no such file/);
    await writeFile(join(dir, 'bad.json'), '{"kind":"apiwarden-profile","version":7}');
    const r3 = await cli([
      'analyze',
      join(sim, 'apisix.jsonl'),
      '--out',
      join(dir, 'x'),
      '--profile',
      join(dir, 'bad.json'),
    ]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/version 7 is not supported/);
  });

  it('reads the combined log too (no bodies: no parameter scores, the rest works)', async () => {
    const out3 = join(dir, 'out3');
    const r = await bin(['analyze', join(sim, 'access.log'), '--out', out3, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const inc = (await readFile(join(out3, 'incidents.jsonl'), 'utf8')).trim();
    expect(inc.length).toBeGreaterThan(0);
  });
});

describe('apiwarden analyze --store: the offline path over history', () => {
  it('learns and judges the stored events and finds what the file analysis found (bar parameter scores)', async () => {
    const store = join(dir, 'store');
    const i = await bin(['ingest', join(sim, 'apisix.jsonl'), '--store', store, '--quiet']);
    expect(i.code, i.stderr).toBe(0);
    const o = join(dir, 'out-store');
    const r = await bin(['analyze', '--store', store, '--out', o, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(await readFile(join(o, 'summary.json'), 'utf8'));
    expect(summary.format).toBe('store');
    const fromFile = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary.events).toBe(fromFile.events);
    const ids = (f: string) =>
      readFile(f, 'utf8').then((t) =>
        t
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .filter((a) => a.detector !== 'param_profile')
          .map((a) => a.id)
          .sort(),
      );
    // The same events in the same order: the same alerts (the store has no bodies, so no parameter alerts).
    expect(await ids(join(o, 'alerts.jsonl'))).toEqual(await ids(join(out, 'alerts.jsonl')));
    const both = await cli(['analyze', join(sim, 'apisix.jsonl'), '--store', store, '--out', o]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give inputs or --store, not both/);
  });
});

describe('apiwarden analyze --config: rules and intel', () => {
  it('raises configured rules and adds intel evidence, and refuses a rule on an unknown feature', async () => {
    const labels = JSON.parse(await readFile(join(sim, 'labels.json'), 'utf8'));
    const crawlerIp = labels.campaigns.find((c: { id: string }) => c.id === 'crawler').actors.ips[0];
    await writeFile(join(dir, 'block.txt'), `# test list\n${crawlerIp}\n`);
    await writeFile(
      join(dir, 'aw.yaml'),
      `detection:\n  rules:\n    - { name: any-failed-login, feature: auth_failures_15m_by_ip, above: 0, type: credential_stuffing, severity: low }\nintel:\n  sources:\n    - { name: block, kind: ip, category: blocklist, file: block.txt }\n`,
    );
    const o = join(dir, 'out-config');
    const r = await bin([
      'analyze',
      join(sim, 'apisix.jsonl'),
      '--out',
      o,
      '--config',
      join(dir, 'aw.yaml'),
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const alerts = (await readFile(join(o, 'alerts.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ruled = alerts.filter((a) => a.detector === 'rule:any-failed-login');
    expect(ruled.length).toBeGreaterThan(0);
    expect(ruled.every((a) => a.severity === 'low')).toBe(true);
    const crawler = alerts.find((a) => a.actors[0].value === crawlerIp);
    expect(crawler.evidence.some((e: { feature: string }) => e.feature === 'intel.blocklist')).toBe(true);
    await writeFile(
      join(dir, 'bad-rule.yaml'),
      'detection:\n  rules:\n    - { name: x, feature: nope, above: 1, type: scanner }\n',
    );
    const b = await cli([
      'analyze',
      join(sim, 'apisix.jsonl'),
      '--out',
      join(dir, 'x'),
      '--config',
      join(dir, 'bad-rule.yaml'),
    ]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(
      /detection\.rules\[0\]\.feature: 'nope' is not a detection feature; use one of rpm_by_ip_endpoint/,
    );
  });
});

describe('apiwarden profile', () => {
  it('learns a profile and shows recommended limits per endpoint', async () => {
    const p = join(dir, 'profile.json');
    const r = await cli(['profile', join(sim, 'apisix.jsonl'), '--out', p, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const s = await cli(['profile', 'show', p, '--endpoint', 'login']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/^POST \/api\/v1\/auth\/login: \d+ req\/min per IP.*confidence [01]\.\d\d/m);
    const j = await cli(['profile', 'show', p, '--json']);
    const recs = JSON.parse(j.stdout);
    expect(recs.length).toBeGreaterThan(10);
    expect(recs[0]).toHaveProperty('perMinute');
  });

  it('says how to use show', async () => {
    const r = await cli(['profile', 'show']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: apiwarden profile show PROFILE.json/);
  });
});

describe('apiwarden eval', () => {
  it('prints the per-campaign table and refuses a labels file of another shape', async () => {
    const r = await cli([
      'eval',
      '--labels',
      join(sim, 'labels.json'),
      '--incidents',
      join(out, 'incidents.jsonl'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^campaign +detected/);
    expect(r.stdout).toMatch(/benign actors flagged: \d+ of \d+/);
    await writeFile(join(dir, 'labels-bad.json'), '{"x":1}');
    const b = await cli([
      'eval',
      '--labels',
      join(dir, 'labels-bad.json'),
      '--incidents',
      join(out, 'incidents.jsonl'),
    ]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/expected a "campaigns" list/);
  });
});
