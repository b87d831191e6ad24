import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ApiEvent } from '../core/event.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import { ATTACK_TYPES } from '../simulate/attacks.js';
import type { RenderFormat } from '../simulate/render.js';
import { simulatedEvents } from '../simulate/replay.js';
import { DEFAULT_START, Simulation } from '../simulate/simulate.js';
import { routeTable } from '../simulate/site.js';
import { Inventory, type InventoryReport } from './catalog.js';
import { diffSpec, readSpec, SpecError, toOpenApi } from './openapi.js';
import { segmentShape, valueType } from './shape.js';
import { SpecTemplates, Templater } from './templater.js';

const ev = (path: string, status = 200, method = 'GET', extra: Partial<ApiEvent> = {}): ApiEvent => ({
  ts: 1_700_000_000_000,
  ip: '203.0.113.1',
  method,
  host: 'api.example.com',
  path,
  query: null,
  status,
  bytesOut: 10,
  bytesIn: null,
  latencyMs: 5,
  userAgent: 'curl/8.5.0',
  referer: null,
  token: null,
  user: null,
  device: null,
  protocol: 'HTTP/1.1',
  origin: { source: 't', line: 1 },
  ...extra,
});

describe('segment shapes', () => {
  it.each([
    ['123', 'int'],
    ['7f0c2a9e-1b3d-4c5e-8f90-a1b2c3d4e5f6', 'uuid'],
    ['d41d8cd98f00b204e9800998ecf8427e', 'hex'],
    ['2026-03-02', 'date'],
    ['alice@example.com', 'email'],
    ['eyJhbGciOiJIUzI1NiJ9abcDEF123456', 'token'],
    ['SKU-000123', 'code'],
    ['app.3f9c1e7a.js', 'file'],
    ['1234-320.webp', 'file'],
    ['favicon.ico', 'word'],
    ['v1', 'word'],
    ['search', 'word'],
    ['sms-code', 'word'],
    ['red-running-shoes', 'slug'],
  ])('%s is %s', (s, shape) => {
    expect(segmentShape(s)).toBe(shape);
  });

  it('types parameter values', () => {
    expect(valueType('42')).toEqual({ type: 'integer', format: null });
    expect(valueType('-1.5')).toEqual({ type: 'number', format: null });
    expect(valueType('2026-03-02T10:11:12Z').format).toBe('date-time');
    expect(valueType('[token:0123456789abcdef]').format).toBe('credential');
    expect(valueType('hello').type).toBe('string');
  });
});

describe('templating', () => {
  it('makes ids parameters at once and keeps literal siblings', () => {
    const t = new Templater();
    const keys = ['/api/v1/products/123', '/api/v1/products/search', '/api/v1/products/77/reviews'].map((p) =>
      t.add('h', p, true),
    );
    expect(keys.map((k) => t.resolve('h', k))).toEqual([
      '/api/v1/products/{id}',
      '/api/v1/products/search',
      '/api/v1/products/{id}/reviews',
    ]);
  });

  it('turns a high-cardinality word position into a parameter, keeping the popular literal', () => {
    const t = new Templater({ minCardinality: 20 });
    const keys: string[] = [];
    for (let i = 0; i < 200; i++) keys.push(t.add('h', '/users/me/settings', true));
    for (let i = 0; i < 60; i++)
      keys.push(
        t.add(
          'h',
          `/users/user${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}/settings`,
          true,
        ),
      );
    const out = new Set(keys.map((k) => t.resolve('h', k)));
    expect([...out].sort()).toEqual(['/users/me/settings', '/users/{name}/settings']);
    expect(t.decisions.find((d) => d.at === '/users/{name}')?.reason).toMatch(
      /distinct word-like values .*kept literal: me/,
    );
  });

  it('does not count 404s as evidence, and escapes segments that look like tokens', () => {
    const t = new Templater({ minCardinality: 5 });
    const keys = ['/a', '/b', '/c', '/d', '/e', '/f', '/g'].map((p) => t.add('h', p, false));
    expect(keys.map((k) => t.resolve('h', k))).toEqual(['/a', '/b', '/c', '/d', '/e', '/f', '/g']);
    expect(t.resolve('h', t.add('h', '/x/{{7*7}}', false))).toBe('/x/%7B{7*7}}');
  });

  it('lets an imported spec decide for the paths it matches', () => {
    const spec = new SpecTemplates();
    spec.add('/shops/{shop}/items/{item}');
    spec.add('/shops/featured/items/{item}');
    expect(spec.match('/shops/acme/items/9')).toBe('/shops/{shop}/items/{item}');
    expect(spec.match('/shops/featured/items/9')).toBe('/shops/featured/items/{item}');
    expect(spec.match('/shops/acme')).toBeNull();
    const inv = new Inventory({ spec });
    inv.add(ev('/shops/acme/items/9'));
    inv.add(ev('/shops/bolt/items/x'));
    expect(inv.report().endpoints.map((e) => e.template)).toEqual(['/shops/{shop}/items/{item}']);
  });

  it('keeps probes out of the endpoints', () => {
    const inv = new Inventory();
    inv.add(ev('/.env', 404));
    inv.add(ev('/.git/config', 403));
    inv.add(ev('/api/items', 200));
    const r = inv.report();
    expect(r.endpoints.map((e) => e.template)).toEqual(['/api/items']);
    expect(r.unconfirmed.map((e) => e.template)).toEqual(['/.env', '/.git/config']);
  });
});

/** Runs a simulated day through a format's real parser into an inventory. */
function inventoryOf(format: RenderFormat): InventoryReport {
  const sim = new Simulation({
    seed: 11,
    start: DEFAULT_START,
    hours: 24,
    users: 1200,
    attacks: ATTACK_TYPES,
    attackScale: 1,
  });
  const inv = new Inventory({ scanner: new SensitiveScanner() });
  for (const e of simulatedEvents(sim, format, { captureBodies: true, captureHeaders: true })) inv.add(e);
  return inv.report();
}

const shape = (t: string) => t.replace(/\{[^}]*\}/g, '{}');

describe('discovery on simulated traffic, scored against the route table', () => {
  const truth = new Map(routeTable().map((r) => [`${r.method} ${shape(r.template)}`, r]));
  for (const format of ['combined', 'apisix'] as const) {
    it(`${format}: precision and recall >= 0.95, scenarios agree`, () => {
      const r = inventoryOf(format);
      const found = new Set(r.endpoints.map((e) => `${e.method} ${shape(e.template)}`));
      const tp = [...found].filter((k) => truth.has(k)).length;
      const precision = tp / found.size;
      const recall = tp / truth.size;
      expect(precision, [...found].filter((k) => !truth.has(k)).join(', ')).toBeGreaterThanOrEqual(0.95);
      expect(recall, [...truth.keys()].filter((k) => !found.has(k)).join(', ')).toBeGreaterThanOrEqual(0.95);
      let agree = 0;
      for (const e of r.endpoints)
        if (truth.get(`${e.method} ${shape(e.template)}`)?.scenario === e.scenario) agree++;
      expect(agree / tp).toBeGreaterThanOrEqual(0.9);
      if (format === 'apisix') {
        const create = r.endpoints.find((e) => e.method === 'POST' && e.template === '/api/v2/orders')!;
        expect(create.bodyParams.map((p) => [p.name, p.type])).toEqual(
          expect.arrayContaining([
            ['product_id', 'integer'],
            ['qty', 'integer'],
            ['price', 'number'],
          ]),
        );
        expect(create.auth.bearer_jwt).toBe(create.requests);
        const profile = r.endpoints.find(
          (e) => e.method === 'GET' && e.template === '/api/v1/users/{id}/profile',
        )!;
        expect(Object.keys((profile.responses.schema as { properties: object }).properties)).toEqual(
          expect.arrayContaining(['email', 'phone', 'address']),
        );
        const partners = r.endpoints.find((e) => e.method === 'GET' && e.template === '/api/v2/orders')!;
        expect(partners.auth).toEqual({ api_key: partners.requests });
        expect(partners.queryParams[0]).toMatchObject({
          name: 'updated_since',
          format: 'date-time',
          requiredRate: 1,
        });
        // Sensitive data per endpoint: types, fields, distinct values, masked examples only.
        const types = (t: string) =>
          new Set(
            r.endpoints
              .find((e) => e.method === 'GET' && e.template === t)!
              .sensitive.response.map((f) => `${f.type} ${f.field}`),
          );
        expect([...types('/api/v1/users/{id}/profile')].sort()).toEqual([
          'cn_id body.id_card',
          'email body.email',
          'phone body.phone',
        ]);
        expect([...types('/api/v1/users/{id}/cards')]).toEqual(['bank_card body.items[].number']);
        expect(types('/api/v1/products/{id}').size).toBe(0);
        const email = profile.sensitive.response.find((f) => f.type === 'email')!;
        expect(email.distinctValues).toBeGreaterThan(50);
        expect(email.example).toMatch(/^\w\*\*\*@/);
        const sms = r.endpoints.find((e) => e.template === '/api/v1/auth/sms-code')!;
        expect(sms.sensitive.request.map((f) => `${f.type} ${f.field}`)).toEqual(['phone body.phone']);
        const list = r.endpoints.find((e) => e.method === 'GET' && e.template === '/api/v1/orders')!;
        expect(list.queryParams.find((p) => p.name === 'status')?.enum).toEqual(['all', 'paid', 'shipped']);
      }
    });
  }

  it('exports OpenAPI 3.1 that reads back and diffs clean against itself', () => {
    const r = inventoryOf('combined');
    const doc = toOpenApi(r);
    expect(doc.openapi).toBe('3.1.0');
    const spec = readSpec(stringify(doc));
    expect(spec.operations.length).toBe(r.endpoints.length);
    const d = diffSpec(spec, r);
    expect([d.shadow, d.zombie.notCalled, d.zombie.deprecatedCalled, d.undocumentedParams]).toEqual([
      [],
      [],
      [],
      [],
    ]);
    // v1 and v2 of the catalog are both in traffic: v1 is a superseded version still called.
    expect(d.zombie.supersededCalled.map((z) => `${z.method} ${z.template}`)).toEqual(
      expect.arrayContaining([
        'GET /api/v1/products',
        'GET /api/v1/products/{id}',
        'GET /api/v1/orders',
        'POST /api/v1/orders',
      ]),
    );
  });

  it('diffs against a hand-written spec: shadow, zombie and undocumented parameters', () => {
    const r = inventoryOf('combined');
    const spec = readSpec(`
openapi: 3.0.3
info: { title: Shop API, version: "2.1" }
servers: [{ url: https://shop.example.com/api }]
components:
  parameters:
    Page: { name: page, in: query, schema: { type: integer } }
paths:
  /v1/products:
    get: { deprecated: true, parameters: [{ $ref: '#/components/parameters/Page' }], responses: { '200': { description: ok } } }
  /v1/products/{productId}:
    get: { responses: { '200': { description: ok } } }
  /v2/products/{productId}:
    get: { responses: { '200': { description: ok } } }
  /v1/wishlist:
    get: { responses: { '200': { description: ok } } }
`);
    expect(spec.operations.map((o) => o.template)).toContain('/api/v1/products/{productId}');
    const d = diffSpec(spec, r);
    expect(d.zombie.notCalled).toEqual([{ method: 'GET', template: '/api/v1/wishlist', deprecated: false }]);
    expect(d.zombie.deprecatedCalled.map((z) => z.template)).toEqual(['/api/v1/products']);
    expect(d.zombie.supersededCalled.map((z) => [z.template, z.newer])).toEqual([
      ['/api/v1/products/{productId}', '/api/v2/products/{productId}'],
    ]);
    expect(d.undocumentedParams).toEqual([
      { method: 'GET', template: '/api/v1/products', params: ['category', 'size', 'sort'] },
    ]);
    expect(d.shadow.map((s) => `${s.method} ${s.template}`)).toContain('POST /api/v1/auth/login');
    expect(d.shadow.length).toBe(r.endpoints.length - 3);
  });

  it('refuses what is not OpenAPI 3 with a one-line reason', () => {
    expect(() => readSpec('swagger: "2.0"\npaths: {}', 'old.yaml')).toThrow(
      new SpecError('old.yaml: Swagger 2.0 is not supported; convert it to OpenAPI 3 first'),
    );
    expect(() => readSpec('openapi: 4.0.0\npaths: {}', 's')).toThrow("'openapi' must be 3.0.x or 3.1.x");
    expect(() => readSpec('a: [', 's')).toThrow(/^s: not YAML or JSON/);
    expect(() => readSpec('openapi: 3.1.0\ninfo: {}', 's')).toThrow("s: no 'paths' object");
  });
});
