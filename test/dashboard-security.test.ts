/**
 * The dashboard's defences, asserted in headless Chromium and over HTTP:
 *
 * - attacker-controlled strings are text: a request whose user agent is `<script>window.__pwned=1</script>`
 *   and whose path holds `<img src=x onerror="window.__pwned=2">` is ingested, and an incident naming the
 *   same actor (plus a user called `<script>…`) imported; on every page that shows them the literal text is
 *   on screen, `window.__pwned` stays undefined, no dialog opens and no element carries an `onerror`;
 * - the pages' Content-Security-Policy is the strict one, on `/` and on the assets, and the browser enforces
 *   it (an inline script added at run time does not run);
 * - the app never sets HTML: web/src holds no innerHTML, outerHTML, insertAdjacentHTML, document.write or
 *   dangerouslySetInnerHTML (a scan that is shown to fail on a sample that does);
 * - `/` without a build answers a 503 page saying to run `npm run build`.
 *
 * Covered elsewhere, not repeated here: every write route (from the OpenAPI route table, the dashboard's new
 * routes included) refuses without a token (401) and with a viewer token (403) before reading the body —
 * test/server-api.test.ts, "refuses every protected route…"; an ingest body over the limit is a 413 and the
 * server keeps serving (declared, streamed and gzip-inflated sizes) — test/server-ingest.test.ts, "refuses
 * a body over the limit…". This file only checks that the dashboard added no write route the matrix would
 * not see.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Hono } from 'hono';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LIVE_START, type LiveDemo } from '../src/cli/demo.js';
import { DASHBOARD_CSP, dashboardFiles } from '../src/server/dashboard.js';
import { ROUTES } from '../src/server/openapi.js';
import {
  api,
  ensureDashboardBuilt,
  launchChromium,
  openPage,
  type PageWatch,
  ROOT,
  screenshot,
  startTestDemo,
  tokenFor,
} from './support/dashboard-browser.js';

const IP = '203.0.113.66';
const UA = '<script>window.__pwned=1</script>';
const PATH = '/<img src=x onerror="window.__pwned=2">';
const USER = '<script>window.__pwned=3</script>';
const EXPLANATION = `${IP} fetched ${PATH} as <img src=x onerror="window.__pwned=4"> with <b>${UA}</b>`;
const INCIDENT = 'inc-xss-0000000000000001';
/** Two minutes before the end of the fixture's simulated six hours: inside the read model's window. */
/** Just after the demo's replayed stretch (2 simulated hours from DEMO_LIVE_START): the newest traffic. */
const TS = DEMO_LIVE_START + 2 * 3_600_000 + 60_000;

let dir: string;
let demo: LiveDemo;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;

/** An APISIX http-logger record of the attacker's request. */
function apisixLine(i: number): string {
  return JSON.stringify({
    client_ip: IP,
    start_time: TS + i * 1000,
    latency: 2.5,
    request: {
      method: 'GET',
      uri: PATH,
      url: `https://shop.example.com:443${PATH}`,
      size: 180,
      querystring: {},
      headers: { host: 'shop.example.com', 'user-agent': UA, accept: 'text/html' },
    },
    response: { status: 200, size: 512, headers: { 'content-type': 'text/html' } },
    upstream: '10.20.1.9:8080',
    route_id: 'spa',
    server: { hostname: 'apisix-0', version: '3.9.1' },
  });
}

beforeAll(async () => {
  await ensureDashboardBuilt();
  browser = await launchChromium();
  dir = await mkdtemp(join(tmpdir(), 'aw-dash-sec-'));
  demo = await startTestDemo(dir, 11, 1000);
  base = demo.baseUrl;
  const analyst = await tokenFor(base, demo.adminToken, 'sec-analyst', 'analyst');

  // Through the HTTP ingest, as a shipper would send it.
  const body = Array.from({ length: 12 }, (_, i) => apisixLine(i)).join('\n');
  const ing = await api(base, analyst, 'POST', '/api/v1/ingest?format=apisix', body);
  expect(ing.status, ing.text).toBe(200);
  expect(ing.body.accepted).toBe(12);

  const imp = await api(base, analyst, 'POST', '/api/v1/incidents/import', {
    incidents: [
      {
        id: INCIDENT,
        type: 'scanner',
        types: ['scanner'],
        severity: 'critical',
        score: 0.99,
        confidence: 0.9,
        status: 'new',
        actors: [
          { kind: 'ip', value: IP },
          { kind: 'user', value: USER },
        ],
        endpoints: [`GET ${PATH}`],
        firstEventTs: TS,
        detectedTs: TS + 60_000,
        lastEventTs: TS + 11_000,
        requests: 12,
        alerts: ['alert-xss-1'],
        evidence: [{ feature: 'distinct_paths_5m_by_ip', value: PATH, endpoint: `GET ${PATH}`, note: UA }],
        explanation: EXPLANATION,
      },
    ],
  });
  expect(imp.status, imp.text).toBe(200);

  ({ context, page, watch } = await openPage(browser));
  await page.goto(`${base}/#token=${encodeURIComponent(demo.adminToken)}`);
  await page.waitForSelector('[data-kpi="Requests"]');
}, 90_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await demo?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Nothing ran: no global set, no dialog, no element with an event-handler attribute, no extra script. */
async function assertInert(p: Page): Promise<void> {
  expect(await p.evaluate('typeof window.__pwned')).toBe('undefined');
  expect(await p.evaluate('document.querySelectorAll("[onerror], [onload], [onclick]").length')).toBe(0);
  expect(await p.evaluate('document.querySelectorAll("img").length')).toBe(0);
  expect(await p.evaluate('document.scripts.length')).toBe(1);
  expect(watch.dialogs).toEqual([]);
  expect(watch.errors).toEqual([]);
}

const text = (p: Page) => p.evaluate('document.body.textContent') as Promise<string>;

describe('attacker strings in the browser', () => {
  it('actor page: the user agent and the path are shown as text in the timeline and the raw lines', async () => {
    await page.goto(`${base}/#/actors/ip/${encodeURIComponent(IP)}`);
    await page.waitForSelector('ol.raw-lines pre.raw');
    const body = await text(page);
    expect(body).toContain(UA);
    expect(body).toContain(PATH);
    expect(await page.locator('td.ua', { hasText: UA }).count()).toBeGreaterThan(0);
    expect(await page.locator('.req-path', { hasText: PATH }).count()).toBeGreaterThan(0);
    const raw = await page.locator('ol.raw-lines pre.raw').first().textContent();
    expect(raw).toContain('"user-agent":"<script>window.__pwned=1</script>"');
    // The linked user (from the incident) is a link whose text is the name.
    expect(await page.locator('a.actor', { hasText: USER }).count()).toBeGreaterThan(0);
    await assertInert(page);
    await screenshot(page, 'sec-01-actor');
    // Its page: the name (with a '/') travels encoded in the fragment and the API path.
    await page.locator('a.actor', { hasText: USER }).first().click();
    await page.waitForSelector(`tr[data-incident="${INCIDENT}"]`);
    expect(await page.textContent('h1 .mono')).toBe(USER);
    await assertInert(page);
  });

  it('incidents list and incident page: explanation, actors graph, evidence', async () => {
    await page.goto(`${base}/#/incidents`);
    await page.waitForSelector(`tr[data-incident="${INCIDENT}"]`);
    expect(await page.locator(`tr[data-incident="${INCIDENT}"] td.explain`).textContent()).toContain(
      '<img src=x onerror="window.__pwned=4">',
    );
    await assertInert(page);
    await screenshot(page, 'sec-02-incidents');

    await page.goto(`${base}/#/incidents/${INCIDENT}`);
    await page.waitForSelector('.graph-svg .node');
    expect(await page.textContent('.explain-lead')).toBe(EXPLANATION);
    // SVG text nodes in the actors graph.
    const labels = await page.locator('.graph-svg .node-label').allTextContents();
    expect(labels).toContain(`${USER.slice(0, 19)}…`);
    expect(await page.locator('.graph-svg title', { hasText: USER }).count()).toBeGreaterThan(0);
    const body = await text(page);
    expect(body).toContain(UA);
    expect(body).toContain(`GET ${PATH}`);
    await assertInert(page);
    await screenshot(page, 'sec-03-incident');
  });

  it('inventory and endpoint page: the path is a shadow endpoint, shown as text', async () => {
    await page.goto(`${base}/#/inventory`);
    await page.waitForSelector('table.inventory tbody tr');
    const row = page.locator('table.inventory tbody tr', { hasText: PATH });
    expect(await row.count()).toBe(1);
    expect(await row.locator('.flag-shadow').count()).toBe(1);
    await assertInert(page);
    await row.locator('a').first().click();
    await page.waitForSelector('h1.mono');
    expect(await page.textContent('h1.mono')).toBe(`GET ${PATH}`);
    await expect.poll(() => page.locator('.chart-box canvas').count()).toBeGreaterThan(0);
    await assertInert(page);
    await screenshot(page, 'sec-04-endpoint');
  });

  it('overview and decisions pages stay inert with the payloads in the data', async () => {
    for (const hash of ['#/', '#/decisions']) {
      await page.goto(`${base}/${hash}`);
      await page.waitForLoadState('networkidle');
      await assertInert(page);
    }
  });
});

describe('Content-Security-Policy', () => {
  it('is the strict policy on the page and on its assets', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    // No inline script or style in the page itself.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style|\sstyle=/i);
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(js).toBeDefined();
    const asset = await fetch(base + js!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    const missing = await fetch(`${base}/assets/nope.js`);
    expect(missing.status).toBe(404);
  });

  it('is enforced by the browser: an inline script added at run time does not run', async () => {
    await page.goto(`${base}/#/`);
    await page.waitForSelector('[data-kpi="Requests"]');
    const violated = await page.evaluate(`new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      setTimeout(() => resolve('none'), 2000);
    })`);
    expect(violated).toMatch(/^script-src/);
    expect(await page.evaluate('typeof window.__inline')).toBe('undefined');
    watch.errors.splice(0); // the browser logs the refused script
  });
});

describe('the app never sets HTML', () => {
  const FORBIDDEN =
    /\b(?:dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML|document\.write(?:ln)?|createContextualFragment|srcdoc)\b/;
  const scan = (files: Record<string, string>) =>
    Object.entries(files)
      .filter(([, src]) => FORBIDDEN.test(src))
      .map(([f]) => f);

  it('finds the forbidden calls when they are there (the scan can fail)', () => {
    expect(
      scan({ 'a.tsx': '<div dangerouslySetInnerHTML={{ __html: x }} />', 'b.ts': 'el.innerHTML = s;' }),
    ).toEqual(['a.tsx', 'b.ts']);
    expect(scan({ 'c.ts': 'el.textContent = s;' })).toEqual([]);
  });

  it('web/src has none of them', () => {
    const files: Record<string, string> = {};
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(?:tsx?|jsx?|html)$/.test(f)) files[relative(ROOT, p)] = readFileSync(p, 'utf8');
      }
    };
    walk(join(ROOT, 'web', 'src'));
    files['web/index.html'] = readFileSync(join(ROOT, 'web', 'index.html'), 'utf8');
    expect(Object.keys(files).length).toBeGreaterThan(10);
    expect(scan(files)).toEqual([]);
  });
});

describe('serving the dashboard', () => {
  it('answers / with a 503 page saying to build when dist/web is missing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'aw-noweb-'));
    try {
      const app = new Hono();
      dashboardFiles(app as never, empty);
      const r = await app.request('/');
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toMatch(/text\/html/);
      expect(await r.text()).toContain('npm run build');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('adds no write route: the auth matrix of test/server-api.test.ts covers every write route', () => {
    const dashboard = ROUTES.filter((r) => r.tag === 'dashboard');
    expect(dashboard.length).toBeGreaterThanOrEqual(8);
    for (const r of dashboard) {
      expect(r.method, r.path).toBe('get');
      if (r.path.startsWith('/api/')) expect(r.role, r.path).toBe('viewer');
    }
    for (const r of ROUTES)
      if (r.method !== 'get') expect(r.role, `${r.method} ${r.path}`).not.toBe('viewer');
  });
});
