/**
 * Regenerates the bundled demo sample `samples/demo/access.log.gz` deterministically:
 *
 *   npm run build && node dist/bench/make-sample.js [output.log.gz]
 *
 * About four hours of combined-format traffic of a small shop (web front end + JSON API, ~20,000 lines),
 * with a little suspicious traffic mixed in for the demo to find:
 *
 *   - a scraper walking product ids sequentially and fast (one IP, python-requests, ~8 req/s),
 *   - credential stuffing: a burst of 401s on POST /api/v1/auth/login from a few IPs,
 *   - a vulnerability scanner probing /.env, /wp-login.php, /admin, /.git/config, …,
 *
 * and three deliberately malformed lines (a truncated line, a line of garbage, a bad timestamp) so the demo
 * shows the quarantine. Same code, same output: the file is byte-identical on every run.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clfTime, type Req, Rng, type Route, renderCombined, Traffic, UA, writeTextFile } from './gen.js';

const SEED = 20250314;
const START = Date.UTC(2025, 2, 14, 8, 0, 0);
const HOURS = 4;
/** Base requests; the scenarios add ~2,000 more. */
const BASE_LINES = 18_000;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_OUT = resolve(ROOT, 'samples', 'demo', 'access.log.gz');

const at = (h: number, m: number, s = 0): number => START + ((h * 60 + m) * 60 + s) * 1000;

const route = (
  method: string,
  target: string,
  status: number,
  bytesOut: number,
  p: Partial<Route> = {},
): Route => ({
  method,
  target,
  status,
  bytesOut,
  bodyIn: 0,
  latency: 20,
  contentType: 'application/json',
  auth: false,
  ...p,
});

/** One IP walking /api/v1/products/{id} in id order, ~8 requests/s, for a few minutes. */
function scraper(t: Traffic, rng: Rng): Req[] {
  const c = t.adHocClient('tool', '45.146.164.110', 'python-requests/2.31.0');
  const out: Req[] = [];
  let time = at(1, 12, 7);
  for (let id = 1001; id <= 2200; id++) {
    time += rng.exp(125);
    const missing = rng.chance(0.04);
    const rt = route(
      'GET',
      `/api/v1/products/${id}`,
      missing ? 404 : 200,
      missing ? 74 : Math.round(rng.logNormal(2400, 0.3)),
      {
        latency: rng.logNormal(18, 0.4),
      },
    );
    out.push(t.request(c, rt, time));
  }
  return out;
}

/** A few IPs hammering the login endpoint: mostly 401, then rate-limited. */
function credentialStuffing(t: Traffic, rng: Rng): Req[] {
  const ips = ['91.240.118.172', '91.240.118.29', '193.35.18.61', '2a0e:fd87:3:12::1f'];
  const out: Req[] = [];
  for (let k = 0; k < ips.length; k++) {
    const c = t.adHocClient('tool', ips[k]!, k % 2 === 0 ? UA.browsers[0] : 'python-requests/2.28.2');
    let time = at(2, 5 + k, 11 * k);
    const n = 140 + 25 * k;
    for (let i = 0; i < n; i++) {
      time += rng.exp(900);
      const limited = i > n - 20;
      const ok = !limited && rng.chance(0.004);
      const rt = route(
        'POST',
        '/api/v1/auth/login',
        limited ? 429 : ok ? 200 : 401,
        limited ? 67 : ok ? 1180 : 61,
        {
          bodyIn: rng.int(60, 110),
          latency: limited ? 0.4 : rng.logNormal(120, 0.3),
        },
      );
      out.push(t.request(c, rt, time));
    }
  }
  return out;
}

const PROBES = [
  '/.env',
  '/.env.bak',
  '/.env.production',
  '/api/.env',
  '/.git/config',
  '/.git/HEAD',
  '/wp-login.php',
  '/wp-admin/',
  '/wp-admin/setup-config.php',
  '/xmlrpc.php',
  '/admin',
  '/admin/',
  '/admin/login',
  '/administrator/index.php',
  '/phpmyadmin/',
  '/pma/',
  '/config.json',
  '/config.php.bak',
  '/.aws/credentials',
  '/.DS_Store',
  '/server-status',
  '/actuator/env',
  '/actuator/health',
  '/backup.zip',
  '/db.sql',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/cgi-bin/luci/;stok=/locale',
  '/api/v1/users?id=1%27%20OR%20%271%27=%271',
  '/static/../../../../etc/passwd',
  '/.well-known/security.txt',
  '/console',
  '/solr/admin/info/system',
];

/** A scanner walking a probe list, twice, with two user agents. */
function scanner(t: Traffic, rng: Rng): Req[] {
  const out: Req[] = [];
  let time = at(3, 20, 40);
  const agents = [
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.129 Safari/537.36',
    'Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))',
  ];
  for (const ua of agents) {
    const c = t.adHocClient('tool', '162.243.137.58', ua);
    for (const p of PROBES) {
      for (const method of p === '/wp-login.php' ? ['GET', 'POST'] : ['GET']) {
        time += rng.exp(350);
        const status =
          p === '/actuator/health' ? 200 : p.startsWith('/admin') ? 403 : p.includes('..') ? 400 : 404;
        const rt = route(method, p, status, status === 200 ? 15 : status === 404 ? 555 : 162, {
          latency: rng.logNormal(3, 0.5),
          contentType: 'text/html',
        });
        out.push(t.request(c, rt, time));
      }
    }
  }
  return out;
}

export async function makeSample(out: string = DEFAULT_OUT): Promise<{ lines: number; path: string }> {
  const traffic = new Traffic({
    seed: SEED,
    start: START,
    ratePerSec: BASE_LINES / (HOURS * 3600),
    clients: 1500,
  });
  const reqs: Req[] = [];
  for (let i = 0; i < BASE_LINES; i++) reqs.push(traffic.next());
  const rng = new Rng(SEED + 1);
  reqs.push(...scraper(traffic, rng), ...credentialStuffing(traffic, rng), ...scanner(traffic, rng));
  reqs.sort((a, b) => a.ts - b.ts); // stable: equal times keep their order
  const lines = reqs.map(renderCombined);

  // Three malformed lines, at fixed positions.
  const n = lines.length;
  const cut = lines[Math.floor(n * 0.31)]!;
  lines.splice(Math.floor(n * 0.31) + 1, 0, cut.slice(0, cut.indexOf('"') + 22)); // truncated mid-request
  const errTime = reqs[Math.floor(n * 0.52)]!.ts;
  const d = new Date(errTime);
  const ymd = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
  lines.splice(
    Math.floor(n * 0.52),
    0,
    // An nginx error-log line that ended up in the access log: garbage for an access-log parser.
    `${ymd} ${clfTime(errTime).slice(12, 20)} [error] 2841#2841: *918273 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 84.17.45.3, server: shop.example.com`,
  );
  const bad = lines[Math.floor(n * 0.77)]!;
  lines.splice(Math.floor(n * 0.77) + 1, 0, bad.replace(/\[(\d\d)\/(\w+)\/(\d{4}):\d\d:/, '[$1/$2/$3:25:')); // hour 25

  mkdirSync(dirname(out), { recursive: true });
  await writeTextFile(out, [`${lines.join('\n')}\n`]);
  return { lines: lines.length, path: out };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  makeSample(process.argv[2] === undefined ? DEFAULT_OUT : resolve(process.argv[2])).then(
    (r) => process.stderr.write(`wrote ${r.lines} lines to ${r.path}\n`),
    (e: unknown) => {
      process.stderr.write(`make-sample: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}
