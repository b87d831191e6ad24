/**
 * The server's JSON API over a real listener on 127.0.0.1 with PGlite state: who may call what (every route
 * of the OpenAPI table), the incident workflow end to end (import, transition, approve, export), users and
 * tokens, validation errors, and attacker strings coming back as inert JSON.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config/schema.js';
import type { Incident } from '../src/detect/incidents.js';
import { Responder } from '../src/respond/workflow.js';
import { ROUTES } from '../src/server/openapi.js';
import { makeIncident, startTestServer, type TestServer } from '../src/server/testing.js';
import { cli } from './support/cli.js';

let t: TestServer;
let scan: Incident;
let xss: Incident;
let quiet: Incident;
let storeRoot: string;
const SCANNER_IP = '203.0.113.77';
const SCRIPT = '<script>alert(1)</script>';

beforeAll(async () => {
  // An event store for backtests: the combined golden file (12 events, one of them from 203.0.113.42).
  storeRoot = await mkdtemp(join(tmpdir(), 'aw-server-store-'));
  const storeDir = join(storeRoot, 'store');
  const log = join(import.meta.dirname, '..', 'testdata/parsers/combined-basic/input.log');
  const ing = await cli(['ingest', log, '--store', storeDir, '--quiet', '--quarantine', 'none']);
  expect(ing.code, ing.stderr).toBe(0);
  t = await startTestServer({ storeDir });
  scan = makeIncident({ actors: [{ kind: 'ip', value: SCANNER_IP }], severity: 'medium', type: 'scanner' });
  xss = makeIncident({
    actors: [
      { kind: 'user', value: SCRIPT },
      { kind: 'ip', value: '198.51.100.9' },
    ],
    severity: 'low',
    type: 'credential_stuffing',
    explanation: `login failures for ${SCRIPT} from 198.51.100.9`,
  });
  quiet = makeIncident({ actors: [{ kind: 'ip', value: '192.0.2.44' }], severity: 'low', type: 'crawler' });
  const r = await new Responder(t.state, { policy: defaultConfig().response }).ingest(
    [scan, xss, quiet],
    'test',
  );
  expect(r.created).toHaveLength(3);
}, 60_000);

afterAll(async () => {
  await t?.stop();
  if (storeRoot !== undefined) await rm(storeRoot, { recursive: true, force: true });
});

const concrete = (path: string) =>
  path.replace('{id}', 'inc-none').replace('{target}', 'nginx').replace('{name}', 'nobody');

describe('auth', () => {
  it('every route in the OpenAPI table exists in the app, and every app route is in the table', () => {
    const app = new Set(
      t.server.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const table = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
    expect([...app].sort()).toEqual([...table].sort());
  });

  it('refuses every protected route without a token (401) and below its role (403), before reading the body', async () => {
    const problems: string[] = [];
    for (const r of ROUTES) {
      if (r.role === null) continue;
      const path = concrete(r.path);
      const send = (token: string | null) =>
        t.call(r.method.toUpperCase(), path, {
          token,
          ...(r.method === 'get' || r.method === 'delete'
            ? {}
            : { body: '{not json', headers: { 'content-type': 'application/json' } }),
        });
      const none = await send(null);
      if (none.status !== 401 || none.body?.error?.code !== 'unauthorized')
        problems.push(`${r.method} ${path} without a token: ${none.status}`);
      const bogus = await send('awt_not-a-real-token');
      if (bogus.status !== 401) problems.push(`${r.method} ${path} with a bad token: ${bogus.status}`);
      if (r.role === 'analyst' || r.role === 'admin') {
        const viewer = await send(t.tokens.viewer);
        if (viewer.status !== 403 || viewer.body?.error?.code !== 'forbidden')
          problems.push(`${r.method} ${path} as viewer: ${viewer.status}`);
      }
      if (r.role === 'admin') {
        const analyst = await send(t.tokens.analyst);
        if (analyst.status !== 403) problems.push(`${r.method} ${path} as analyst: ${analyst.status}`);
      }
    }
    expect(problems).toEqual([]);
    // Every write needs at least analyst.
    for (const r of ROUTES)
      if (r.method !== 'get') expect(r.role, `${r.method} ${r.path}`).not.toBe('viewer');
  });

  it('answers 401 with a Bearer challenge', async () => {
    const r = await t.call('GET', '/api/v1/incidents', { token: null });
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const bad = await t.call('GET', '/api/v1/incidents', {
      token: null,
      headers: { authorization: 'Basic YTpi' },
    });
    expect(bad.status).toBe(401);
  });

  it('/healthz and /metrics need no token', async () => {
    const h = await t.call('GET', '/healthz', { token: null });
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ status: 'ok', db: 'ok' });
    expect(h.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await t.call('GET', '/metrics', { token: null })).status).toBe(200);
  });

  it('says who the caller is', async () => {
    const r = await t.call('GET', '/api/v1/me', { token: t.tokens.analyst });
    expect(r.body).toMatchObject({ user: 'ana', role: 'analyst' });
  });
});

describe('incidents and decisions', () => {
  it('lists incidents newest first with filters and pages', async () => {
    const all = await t.call('GET', '/api/v1/incidents', { token: t.tokens.viewer });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    expect(all.body.items.map((i: { id: string }) => i.id)).toEqual([quiet.id, xss.id, scan.id]);
    expect(all.body.items[2]).toMatchObject({
      status: 'new',
      actorCount: 1,
      decisions: { proposed: 1, active: 0 },
    });

    const medium = await t.call('GET', '/api/v1/incidents?minSeverity=medium', { token: t.tokens.viewer });
    expect(medium.body.items.map((i: { id: string }) => i.id)).toEqual([scan.id]);
    const stuffing = await t.call('GET', '/api/v1/incidents?type=credential_stuffing', {
      token: t.tokens.viewer,
    });
    expect(stuffing.body.total).toBe(1);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/v1/incidents?limit=2&order=asc${cursor === null ? '' : `&cursor=${cursor}`}`;
      const p = await t.call('GET', q, { token: t.tokens.viewer });
      expect(p.status).toBe(200);
      seen.push(...p.body.items.map((i: { id: string }) => i.id));
      cursor = p.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([scan.id, xss.id, quiet.id]);
  });

  it('explains bad query parameters and bodies, naming the field', async () => {
    const q = await t.call('GET', '/api/v1/incidents?status=bogus', { token: t.tokens.viewer });
    expect(q.status).toBe(400);
    expect(q.body.error).toMatchObject({ code: 'invalid_query', field: 'status' });
    const c = await t.call('GET', '/api/v1/incidents?cursor=zzz', { token: t.tokens.viewer });
    expect(c.body.error).toMatchObject({ code: 'invalid_query', field: 'cursor' });
    const j = await t.call('POST', `/api/v1/incidents/${scan.id}/transition`, {
      token: t.tokens.analyst,
      body: '{"to":',
      headers: { 'content-type': 'application/json' },
    });
    expect(j.status).toBe(400);
    expect(j.body.error.code).toBe('invalid_json');
    const extra = await t.call('POST', `/api/v1/incidents/${scan.id}/transition`, {
      token: t.tokens.analyst,
      json: { to: 'triaged', sneaky: 1 },
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.code).toBe('invalid_body');
    const missing = await t.call('POST', '/api/v1/incidents/inc-nope/transition', {
      token: t.tokens.analyst,
      json: { to: 'triaged' },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const route = await t.call('GET', '/api/v1/nothing-here', { token: t.tokens.viewer });
    expect(route.status).toBe(404);
    expect(route.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('runs the workflow: transition, approve (mitigates), export nginx', async () => {
    const tr = await t.call('POST', `/api/v1/incidents/${scan.id}/transition`, {
      token: t.tokens.analyst,
      json: { to: 'triaged', note: 'looking', assignee: 'ana' },
    });
    expect(tr.status).toBe(200);
    expect(tr.body.incident).toMatchObject({ status: 'triaged', assignee: 'ana' });
    const wrong = await t.call('POST', `/api/v1/incidents/${scan.id}/transition`, {
      token: t.tokens.analyst,
      json: { to: 'resolved' },
    });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.code).toBe('conflict');
    expect(wrong.body.error.message).toMatch(/triaged/);
    const conf = await t.call('POST', `/api/v1/incidents/${scan.id}/transition`, {
      token: t.tokens.analyst,
      json: { to: 'confirmed' },
    });
    expect(conf.body.incident.status).toBe('confirmed');

    const proposed = await t.call('GET', `/api/v1/decisions?status=proposed&incident=${scan.id}`, {
      token: t.tokens.viewer,
    });
    expect(proposed.body.items).toHaveLength(1);
    const dec = proposed.body.items[0];
    expect(dec).toMatchObject({ action: 'block', scope: { kind: 'ip', value: SCANNER_IP } });
    const ok = await t.call('POST', `/api/v1/decisions/${dec.id}/approve`, { token: t.tokens.analyst });
    expect(ok.status).toBe(200);
    expect(ok.body.decision.status).toBe('active');
    expect(ok.body.incident.status).toBe('mitigated');
    const again = await t.call('POST', `/api/v1/decisions/${dec.id}/approve`, { token: t.tokens.analyst });
    expect(again.status).toBe(409);

    const detail = await t.call('GET', `/api/v1/incidents/${scan.id}`, { token: t.tokens.viewer });
    expect(detail.body.incident.notes[0]).toMatchObject({ by: 'ana', text: 'looking' });
    expect(detail.body.decisions.map((d: { id: string }) => d.id)).toContain(dec.id);
    const actions = detail.body.audit.map((e: { action: string; by: string }) => `${e.action}:${e.by}`);
    expect(actions).toEqual(
      expect.arrayContaining(['incident.created:test', 'incident.transition:ana', 'decision.approved:ana']),
    );

    const exp = await t.call('GET', '/api/v1/export/nginx', { token: t.tokens.viewer });
    expect(exp.status).toBe(200);
    expect(exp.body.active).toBe(1);
    const names = exp.body.files.map((f: { name: string }) => f.name);
    expect(names).toEqual(['apiwarden-http.conf', 'apiwarden-server.conf']);
    const http = exp.body.files[0];
    expect(http.content).toContain(SCANNER_IP);
    expect(http.bytes).toBe(Buffer.byteLength(http.content));

    const raw = await t.call('GET', '/api/v1/export/nginx?file=apiwarden-http.conf', {
      token: t.tokens.viewer,
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(raw.headers.get('content-disposition')).toBe('attachment; filename="apiwarden-http.conf"');
    expect(raw.headers.get('x-content-type-options')).toBe('nosniff');
    expect(raw.text).toBe(http.content);
    const aws = await t.call('GET', '/api/v1/export/aws-waf?file=aws-waf-ipsets.json', {
      token: t.tokens.viewer,
    });
    expect(aws.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(aws.text).toContain(SCANNER_IP);
    expect(
      (await t.call('GET', '/api/v1/export/nginx?file=../etc/passwd', { token: t.tokens.viewer })).status,
    ).toBe(404);
    expect((await t.call('GET', '/api/v1/export/iptables', { token: t.tokens.viewer })).status).toBe(404);
  });

  it('takes, checks and revokes decisions by hand; notes and assignments', async () => {
    const bad = await t.call('POST', '/api/v1/decisions', {
      token: t.tokens.analyst,
      json: { action: 'block', scope: { kind: 'ip', value: 'not-an-ip' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('scope.value');
    expect(bad.body.error.message).toMatch(/is not an IP address/);
    const badTok = await t.call('POST', '/api/v1/decisions', {
      token: t.tokens.analyst,
      json: { action: 'block', scope: { kind: 'token', value: 'abc' } },
    });
    expect(badTok.body.error.message).toMatch(/16-hex token id/);
    const badEp = await t.call('POST', '/api/v1/decisions', {
      token: t.tokens.analyst,
      json: { action: 'block', scope: { kind: 'ip', value: '192.0.2.1', endpoint: 'login' } },
    });
    expect(badEp.body.error.field).toBe('scope.endpoint');
    const badTtl = await t.call('POST', '/api/v1/decisions', {
      token: t.tokens.analyst,
      json: { action: 'block', scope: { kind: 'cidr', value: '192.0.2.0/24' }, ttl: 'forever' },
    });
    expect(badTtl.body.error.field).toBe('ttl');

    const made = await t.call('POST', '/api/v1/decisions', {
      token: t.tokens.analyst,
      json: {
        action: 'rate_limit',
        scope: { kind: 'cidr', value: '192.0.2.0/24', endpoint: 'POST /api/v1/auth/login' },
        ttl: '2h',
        rateLimit: { requests: 10, perSeconds: 60 },
        reason: 'botnet',
      },
    });
    expect(made.status).toBe(201);
    expect(made.body.decision).toMatchObject({
      status: 'active',
      origin: 'manual',
      rateLimit: { requests: 10 },
    });
    expect(made.body.decision.expiresTs - made.body.decision.createdTs).toBe(7_200_000);
    const rv = await t.call('POST', `/api/v1/decisions/${made.body.decision.id}/revoke`, {
      token: t.tokens.analyst,
      json: { reason: 'done' },
    });
    expect(rv.body.decision.status).toBe('revoked');
    const rv2 = await t.call('POST', `/api/v1/decisions/${made.body.decision.id}/revoke`, {
      token: t.tokens.analyst,
    });
    expect(rv2.status).toBe(409);
    expect(
      (await t.call('POST', '/api/v1/decisions/dec-nope/approve', { token: t.tokens.analyst })).status,
    ).toBe(404);

    const note = await t.call('POST', `/api/v1/incidents/${quiet.id}/notes`, {
      token: t.tokens.analyst,
      json: { text: 'a known partner' },
    });
    expect(note.body.incident.notes).toHaveLength(1);
    const as = await t.call('POST', `/api/v1/incidents/${quiet.id}/assign`, {
      token: t.tokens.analyst,
      json: { assignee: 'vic' },
    });
    expect(as.body.incident.assignee).toBe('vic');
    const exp = await t.call('POST', '/api/v1/decisions/expire', { token: t.tokens.analyst });
    expect(exp.body.expired).toEqual([]);
  });

  it('backtests a hypothetical scope and stored decisions over the event store', async () => {
    const bt = await t.call('POST', '/api/v1/backtest', {
      token: t.tokens.analyst,
      json: { scope: { kind: 'ip', value: '203.0.113.42' } },
    });
    expect(bt.status).toBe(200);
    expect(bt.body.storedRequests).toBe(12);
    expect(bt.body.decisions[0]).toMatchObject({
      decision: 'hypothetical',
      action: 'block',
      requests: 1,
      collateralActors: 1,
    });
    const stored = await t.call('POST', '/api/v1/backtest', { token: t.tokens.analyst, json: { all: true } });
    expect(stored.status).toBe(200);
    expect(stored.body.decisions.length).toBeGreaterThan(0);
    const missing = await t.call('POST', '/api/v1/backtest', {
      token: t.tokens.analyst,
      json: { decisions: ['dec-nope'] },
    });
    expect(missing.status).toBe(404);
    const both = await t.call('POST', '/api/v1/backtest', {
      token: t.tokens.analyst,
      json: { all: true, scope: { kind: 'ip', value: '203.0.113.42' } },
    });
    expect(both.body.error.field).toBe('scope');
    const range = await t.call('POST', '/api/v1/backtest', {
      token: t.tokens.analyst,
      json: { scope: { kind: 'ip', value: '203.0.113.42' }, from: 'yesterday' },
    });
    expect(range.body.error.field).toBe('from');
  });

  it('returns attacker strings JSON-escaped, with nosniff', async () => {
    for (const path of [`/api/v1/incidents/${xss.id}`, '/api/v1/incidents']) {
      const r = await t.call('GET', path, { token: t.tokens.viewer });
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      expect(r.text).not.toContain('<script>');
      expect(r.text).toContain('\\u003cscript\\u003ealert(1)\\u003c/script\\u003e');
    }
    const d = await t.call('GET', `/api/v1/incidents/${xss.id}`, { token: t.tokens.viewer });
    expect(d.body.incident.explanation).toBe(`login failures for ${SCRIPT} from 198.51.100.9`);
    expect(d.body.incident.actors[0]).toEqual({ kind: 'user', value: SCRIPT });
  });
});

describe('users, tokens, documents, audit', () => {
  it('lets only admins manage users and tokens; a secret is shown once and works until revoked', async () => {
    expect(
      (
        await t.call('POST', '/api/v1/users', {
          token: t.tokens.analyst,
          json: { name: 'bob', role: 'analyst' },
        })
      ).status,
    ).toBe(403);
    const u = await t.call('POST', '/api/v1/users', { json: { name: 'bob', role: 'analyst' } });
    expect(u.status).toBe(201);
    expect(u.body.user).toMatchObject({ name: 'bob', role: 'analyst' });
    const dup = await t.call('POST', '/api/v1/users', { json: { name: 'bob', role: 'viewer' } });
    expect(dup.status).toBe(409);
    const badRole = await t.call('POST', '/api/v1/users', { json: { name: 'eve', role: 'root' } });
    expect(badRole.body.error.field).toBe('role');
    const noUser = await t.call('POST', '/api/v1/tokens', { json: { user: 'nobody' } });
    expect(noUser.status).toBe(404);

    const tok = await t.call('POST', '/api/v1/tokens', { json: { user: 'bob', label: 'laptop' } });
    expect(tok.status).toBe(201);
    const secret: string = tok.body.secret;
    expect(secret).toMatch(/^awt_/);
    const me = await t.call('GET', '/api/v1/me', { token: secret });
    expect(me.body).toMatchObject({ user: 'bob', role: 'analyst', tokenId: tok.body.token.id });
    const list = await t.call('GET', '/api/v1/tokens?user=bob');
    expect(list.body.tokens).toHaveLength(1);
    expect(list.text).not.toContain(secret);
    const all = await t.call('GET', '/api/v1/tokens');
    expect(all.text).not.toContain(secret);

    const last = await t.call('PATCH', '/api/v1/users/admin', { json: { role: 'analyst' } });
    expect(last.status).toBe(409);
    expect(last.body.error.message).toMatch(/last admin/);
    const demote = await t.call('PATCH', '/api/v1/users/bob', { json: { role: 'viewer' } });
    expect(demote.body.user.role).toBe('viewer');
    expect(
      (await t.call('POST', `/api/v1/incidents/${quiet.id}/notes`, { token: secret, json: { text: 'x' } }))
        .status,
    ).toBe(403);

    const rv = await t.call('DELETE', `/api/v1/tokens/${tok.body.token.id}`);
    expect(rv.status).toBe(200);
    expect((await t.call('GET', '/api/v1/me', { token: secret })).status).toBe(401);
    expect((await t.call('DELETE', `/api/v1/tokens/${tok.body.token.id}`)).status).toBe(404);
    const users = await t.call('GET', '/api/v1/users');
    expect(users.body.users.map((x: { name: string }) => x.name)).toEqual(['admin', 'ana', 'vic', 'bob']);
  });

  it('stores inventory and profile versions; refuses a profile that is not one', async () => {
    expect((await t.call('GET', '/api/v1/profile', { token: t.tokens.viewer })).status).toBe(404);
    const bad = await t.call('PUT', '/api/v1/profile', { token: t.tokens.analyst, json: { kind: 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/not an apiwarden profile/);
    const inv = {
      version: 1,
      events: 10,
      from: null,
      to: null,
      endpoints: [{ method: 'GET', template: '/a/{id}' }],
      unconfirmed: [],
      decisions: [],
    };
    const put = await t.call('PUT', '/api/v1/inventory', { token: t.tokens.analyst, json: inv });
    expect(put.status).toBe(201);
    const got = await t.call('GET', '/api/v1/inventory', { token: t.tokens.viewer });
    expect(got.body).toMatchObject({ id: put.body.id, inventory: inv });
    const versions = await t.call('GET', '/api/v1/inventory/versions', { token: t.tokens.viewer });
    expect(versions.body.versions).toHaveLength(1);
  });

  it('pages the audit log and verifies its chain', async () => {
    const first = await t.call('GET', '/api/v1/audit?limit=2', { token: t.tokens.viewer });
    expect(first.body.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    expect(first.body.nextAfterSeq).toBe(2);
    const next = await t.call('GET', '/api/v1/audit?limit=2&afterSeq=2', { token: t.tokens.viewer });
    expect(next.body.entries[0].seq).toBe(3);
    const target = await t.call('GET', `/api/v1/audit?target=${scan.id}`, { token: t.tokens.viewer });
    expect(target.body.entries.every((e: { target: string }) => e.target === scan.id)).toBe(true);
    const v = await t.call('GET', '/api/v1/audit/verify', { token: t.tokens.viewer });
    expect(v.body).toEqual({ intact: true, problem: null });
  });

  it('serves its OpenAPI 3.1 document', async () => {
    const r = await t.call('GET', '/api/v1/openapi.json', { token: null });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(r.body.paths['/api/v1/incidents/{id}/transition'].post['x-apiwarden-role']).toBe('analyst');
  });
});
