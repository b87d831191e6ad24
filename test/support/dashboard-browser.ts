/**
 * Headless Chromium for the dashboard's tests: Debian's `chromium` driven by playwright-core (no browser
 * download). Without /usr/bin/chromium the tests fail with what to install: they are part of CI, not
 * optional. The dashboard must be built (dist/web, `npm run build`, which `npm test` runs first); a missing
 * build is made here so a lone `npx vitest run test/dashboard-e2e.test.ts` works.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type LiveDemo, startLiveDemo } from '../../src/cli/demo.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = join(import.meta.dirname, '..', '..');
export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');
export const VIEWPORT = { width: 1366, height: 768 };

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: the dashboard's browser tests need Debian's chromium (apt-get install -y chromium)`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Builds the dashboard into dist/web when it is not there. */
export async function ensureDashboardBuilt(): Promise<void> {
  if (existsSync(join(ROOT, 'dist', 'web', 'index.html'))) return;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
}

/** Everything the page reported that a working page does not: uncaught errors, console errors, dialogs. */
export interface PageWatch {
  errors: string[];
  dialogs: string[];
}

export async function openPage(
  browser: Browser,
): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
  const page = await context.newPage();
  const watch: PageWatch = { errors: [], dialogs: [] };
  page.on('pageerror', (e) => watch.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // 404s of API reads the page shows as messages (an actor not seen) are not errors of the page.
    if (m.type() === 'error' && !/status of 404/.test(m.text())) watch.errors.push(`console: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    watch.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return { context, page, watch };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** A JSON call to the server with a token. */
export async function api(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const r = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await r.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: r.status, body: parsed, text, headers: r.headers };
}

/** A user of `role` with a token of its own (through the API, as an admin would). */
export async function tokenFor(
  base: string,
  adminToken: string,
  name: string,
  role: string,
): Promise<string> {
  const u = await api(base, adminToken, 'POST', '/api/v1/users', { name, role });
  if (u.status !== 201) throw new Error(`creating user ${name}: ${u.status} ${u.text}`);
  const t = await api(base, adminToken, 'POST', '/api/v1/tokens', { user: name, label: 'dashboard test' });
  if (t.status !== 201) throw new Error(`creating a token for ${name}: ${t.status} ${t.text}`);
  return t.body.secret as string;
}

/**
 * The demo itself (npm start, src/cli/demo.ts), small and fast for the browser tests: 4 simulated hours of
 * history, one 2-hour stretch with every attack campaign replayed at 2,400x. Resolves once the stretch is in,
 * so no traffic moves under the clicks.
 */
export async function startTestDemo(dataDir: string, seed: number, users: number): Promise<LiveDemo> {
  const demo = await startLiveDemo({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    seed,
    users,
    historyHours: 4,
    stretchHours: 2,
    segmentMinutes: 5,
    speed: 2400,
    stretches: 1,
  });
  await demo.ready;
  await demo.finished;
  return demo;
}
