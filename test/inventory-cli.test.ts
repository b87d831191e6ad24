import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bin, cli } from './support/cli.js';

let dir: string;
let sim: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-inv-'));
  sim = join(dir, 'sim');
  const r = await cli(['simulate', '--out', sim, '--hours', '6', '--users', '600', '--quiet']);
  expect(r.code).toBe(0);
});

describe('apiwarden inventory', () => {
  it('writes inventory.json and openapi.yaml and prints a table', async () => {
    const out = join(dir, 'inv');
    const r = await bin(['inventory', join(sim, 'apisix.jsonl'), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+ endpoints from [\d,]+ requests/);
    expect(r.stdout).toMatch(/GET +\/api\/v1\/users\/\{id\}\/profile +personal_data/);
    const inv = JSON.parse(await readFile(join(out, 'inventory.json'), 'utf8'));
    expect(inv.version).toBe(1);
    const login = inv.endpoints.find((e: { template: string }) => e.template === '/api/v1/auth/login');
    expect(login).toMatchObject({ method: 'POST', scenario: 'authentication' });
    expect(login.bodyParams.map((p: { name: string }) => p.name).sort()).toEqual(['password', 'username']);
    const doc = parse(await readFile(join(out, 'openapi.yaml'), 'utf8'));
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/users/{id}/profile'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components.securitySchemes.bearerAuth).toEqual({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  });

  it('diffs against a spec given with --spec', async () => {
    const spec = join(dir, 'spec.yaml');
    await writeFile(
      spec,
      'openapi: 3.1.0\ninfo: {title: Shop, version: "1"}\npaths:\n  /api/v1/products/{id}:\n    get: {deprecated: true}\n  /api/v1/wishlist:\n    get: {}\n',
    );
    const out = join(dir, 'inv-spec');
    const r = await cli(['inventory', join(sim, 'access.log'), '--out', out, '--spec', spec, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.diff).toMatchObject({ deprecatedCalled: 1, notCalled: 1 });
    expect(s.diff.shadow).toBe(s.endpoints - 1);
    const d = JSON.parse(await readFile(join(out, 'spec-diff.json'), 'utf8'));
    expect(d.zombie.notCalled).toEqual([{ method: 'GET', template: '/api/v1/wishlist', deprecated: false }]);
  });

  it('names a bad spec and exits 1, and requires --out', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'swagger: "2.0"\npaths: {}\n');
    const r = await cli(['inventory', join(sim, 'access.log'), '--out', join(dir, 'x'), '--spec', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `apiwarden: ${bad}: Swagger 2.0 is not supported; convert it to OpenAPI 3 first`,
    );
    const m = await cli(['inventory', join(sim, 'access.log')]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain("required option '-o, --out <dir>'");
  });
});
