/**
 * Parse throughput of the combined parser: ~1M generated realistic combined lines, already in memory as
 * strings, through parseLine (cutting + Normalizer.finalize). Not a test; run it by hand:
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/aw-tp && node /tmp/aw-tp/src/parsers/logformat/throughput.js
 *
 * Options: `--lines N` (default 1,000,000), `--rounds N` (default 5), `--clients N` (distinct client addresses,
 * skewed; default 20,000; 0 = a new random address on every line, the worst case for the trusted-proxy
 * memo), `--per-second N` (log lines per second of log time, default 50: how often the time string
 * changes), `--fill-only` (cut lines into the draft without finalize, to see how the time splits).
 */
import { pathToFileURL } from 'node:url';
import { Normalizer } from '../src/core/normalize.js';
import { isMalformed } from '../src/core/result.js';
import { combinedFormat } from '../src/parsers/logformat/presets.js';
import type { LogFormatParser } from '../src/parsers/logformat/program.js';
import { mulberry32 } from './gen.js';

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0 (compatible; internal-monitoring/2.1)',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'okhttp/4.12.0 (Android 14; Pixel 8 Pro; build UQ1A.240205.004) com.example.shop/5.12.1 release',
  'python-requests/2.31.0 CPython/3.12.2 Linux/6.5.0-1016-azure (data-export job; contact ops@example.com)',
];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'];
const STATUSES = [200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 404, 429, 500, 502];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Realistic combined lines: varied IPv4/IPv6 clients, API paths with ids and query strings, long agents. */
export function generateCombined(count: number, clients = 20_000, perSecond = 50, seed = 42): string[] {
  const r = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const randomIp = (): string =>
    r() < 0.1
      ? `2001:db8:${Math.floor(r() * 65536).toString(16)}::${Math.floor(r() * 65536).toString(16)}`
      : `${Math.floor(r() * 223) + 1}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 254) + 1}`;
  const pool = Array.from({ length: clients }, randomIp);
  const lines: string[] = new Array(count);
  let t = Date.UTC(2024, 2, 5, 10, 0, 0);
  for (let i = 0; i < count; i++) {
    // `perSecond` lines a second on average (a modest API server; busy ones log thousands).
    if (r() * perSecond < 1) t += 1000;
    const d = new Date(t);
    const time = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
    // Clients: a skewed pool (a few heavy callers, a long tail), or a fresh address per line.
    const ip = pool.length > 0 ? pool[Math.floor(r() ** 3 * pool.length)]! : randomIp();
    const id = Math.floor(r() * 1e6);
    const k = r();
    const path =
      k < 0.3
        ? `/api/v1/users/${id}/orders?page=${Math.floor(r() * 20)}&limit=50`
        : k < 0.5
          ? `/api/v2/products/${id}`
          : k < 0.65
            ? `/api/v2/search?q=term${id % 997}&sort=price&order=asc`
            : k < 0.8
              ? `/api/v1/carts/${id.toString(16)}/items/${id % 100}`
              : k < 0.9
                ? `/static/js/app.${(id * 7919).toString(36)}.js`
                : `/api/v1/sessions`;
    const user = r() < 0.05 ? `user${id % 1000}` : '-';
    const ref = r() < 0.4 ? `https://shop.example.com/p/${id % 5000}` : '-';
    lines[i] =
      `${ip} - ${user} [${time}] "${pick(METHODS)} ${path} HTTP/1.1" ${pick(STATUSES)} ${Math.floor(r() * 50000)} "${ref}" "${pick(AGENTS)}"`;
  }
  // Lines as the pipeline has them: cut out of decoded text, flat, not concatenation ropes.
  return lines.join('\n').split('\n');
}

function main(): void {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: number): number => {
    const i = argv.indexOf(name);
    return i === -1 ? def : Number(argv[i + 1]);
  };
  const count = opt('--lines', 1_000_000);
  const rounds = opt('--rounds', 5);
  const fillOnly = argv.includes('--fill-only');
  const clients = opt('--clients', 20_000);
  const perSecond = opt('--per-second', 50);
  const lines = generateCombined(count, clients, perSecond);
  const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
  console.log(
    `${count} lines, ${(bytes / 1e6).toFixed(1)} MB, ${clients > 0 ? `${clients} clients` : 'a new client per line'}, ~${perSecond} lines/s of log time, ${fillOnly ? 'fill only' : 'parseLine'}`,
  );
  const parser = combinedFormat.create({ normalizer: new Normalizer() }) as LogFormatParser;
  const origin = { source: 'bench', line: 0 };
  let best = 0;
  for (let round = 0; round < rounds; round++) {
    let bad = 0;
    let sink = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i++) {
      origin.line = i + 1;
      if (fillOnly) {
        if (parser.fill(lines[i]!) !== null) bad++;
      } else {
        const r = parser.parseLine(lines[i]!, origin);
        if (isMalformed(r)) bad++;
        else sink += r.status;
      }
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const rate = lines.length / s;
    best = Math.max(best, rate);
    console.log(
      `round ${round + 1}: ${(rate / 1e6).toFixed(2)} M lines/s (${(bytes / s / 1e6).toFixed(0)} MB/s), ${bad} malformed, checksum ${sink}`,
    );
  }
  console.log(`best: ${(best / 1e6).toFixed(2)} M lines/s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
