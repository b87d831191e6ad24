/**
 * The web dashboard's files (built by `npm run build` from web/ into dist/web/, docs/dashboard.md), served by
 * the same app as the API so the pages and the API share one origin (no CORS, bearer tokens only).
 *
 *   GET /                 index.html (the app routes by the URL's fragment: #/incidents/ID)
 *   GET /assets/{file}    the hashed bundles: immutable, cached for a year
 *
 * The pages get a strict Content-Security-Policy: scripts, styles and connections from this origin only, no
 * inline script or style, no plugins, no framing, no <base>. Together with rendering every string from
 * traffic as text (the app never sets HTML), a `<script>` in a user agent stays text. Without a build the
 * server answers `/` with a 503 page saying how to make one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { ServerEnv } from './auth.js';
import { errorBody, json } from './http.js';

export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** dist/web of the package this file belongs to (src/server → ../..; dist/src/server → ../../..). */
export function defaultDashboardDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'web');
    dir = dirname(dir);
  }
  return resolve('dist', 'web');
}

interface Built {
  index: string;
  assets: Map<string, { body: Buffer; type: string }>;
  /** index.html's modification time: a new build is picked up. */
  mtimeMs: number;
}

const UNBUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>apiwarden: dashboard not built</title></head>
<body><h1>The dashboard is not built</h1>
<p>This apiwarden was started without the web dashboard's files. Run <code>npm run build</code> in the
apiwarden checkout (it builds the server and the dashboard into <code>dist/</code>) and reload this page.</p>
<p>The API works without it: <code>/api/v1/openapi.json</code>, <code>/healthz</code>.</p></body></html>
`;

/** The built files, read once and again when index.html changes; null without a build. */
class Files {
  private built: Built | null = null;
  constructor(readonly dir: string) {}
  get(): Built | null {
    const indexPath = join(this.dir, 'index.html');
    let mtimeMs: number;
    try {
      mtimeMs = statSync(indexPath).mtimeMs;
    } catch {
      this.built = null;
      return null;
    }
    if (this.built !== null && this.built.mtimeMs === mtimeMs) return this.built;
    const assets = new Map<string, { body: Buffer; type: string }>();
    const assetDir = join(this.dir, 'assets');
    if (existsSync(assetDir))
      for (const f of readdirSync(assetDir)) {
        const p = join(assetDir, f);
        if (!statSync(p).isFile()) continue;
        assets.set(f, { body: readFileSync(p), type: TYPES[extname(f)] ?? 'application/octet-stream' });
      }
    this.built = { index: readFileSync(indexPath, 'utf8'), assets, mtimeMs };
    return this.built;
  }
}

const PAGE_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

export function dashboardFiles(app: Hono<ServerEnv>, dir: string = defaultDashboardDir()): void {
  const files = new Files(dir);

  app.get('/', (c) => {
    const b = files.get();
    if (b === null) return c.html(UNBUILT, 503, { ...PAGE_HEADERS, 'cache-control': 'no-store' });
    return c.html(b.index, 200, { ...PAGE_HEADERS, 'cache-control': 'no-cache' });
  });

  app.get('/assets/:file', (c) => {
    const b = files.get();
    const f = b?.assets.get(c.req.param('file'));
    if (f === undefined) return json(c, errorBody('not_found', `no dashboard file ${c.req.path}`), 404);
    return c.body(new Uint8Array(f.body), 200, {
      ...PAGE_HEADERS,
      'content-type': f.type,
      'cache-control': 'public, max-age=31536000, immutable',
    });
  });
}
