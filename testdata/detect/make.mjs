// Writes the detection golden fixtures (events.jsonl per case): `node testdata/detect/make.mjs`.
// Seeded and deterministic; expected.json files are written by hand from what each case plants.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
let a = 7;
const rnd = () => {
  a = (a + 0x6d2b79f5) >>> 0;
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const MIN = 60_000;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0';

function ev(ts, ip, method, path, endpoint, scenario, status, extra = {}) {
  const id = /\/(\d+)(?:\/[a-z]*)?$/.exec(path);
  return { ts: Math.round(ts), ip, method, path, endpoint, scenario, status, bytesOut: 800, userAgent: UA, numericId: id ? Number(id[1]) : null, ...extra };
}

/** 240 benign visitors over 4 hours: listing, a few product pages, assets, now and then a login. */
function benign(out, hours = 4) {
  for (let u = 0; u < 240; u++) {
    const ip = `198.51.${Math.floor(u / 200)}.${(u % 200) + 1}`;
    let t = T0 + rnd() * hours * 60 * MIN;
    const end = Math.min(T0 + hours * 60 * MIN, t + int(5, 40) * MIN);
    while (t < end) {
      out.push(ev(t, ip, 'GET', '/static/app.js', 'GET /static/app.js', 'static', 200));
      out.push(ev(t + 200, ip, 'GET', '/api/v1/products', 'GET /api/v1/products', 'listing', 200));
      const pid = int(1, 5000);
      out.push(ev(t + 3000, ip, 'GET', `/api/v1/products/${pid}`, 'GET /api/v1/products/{id}', 'detail', 200));
      if (rnd() < 0.05) out.push(ev(t + 5000, ip, 'POST', '/api/v1/auth/login', 'POST /api/v1/auth/login', 'authentication', rnd() < 0.3 ? 401 : 200));
      t += int(1, 6) * MIN;
    }
  }
}

function write(name, events) {
  events.sort((x, y) => x.ts - y.ts);
  mkdirSync(join(here, name), { recursive: true });
  writeFileSync(join(here, name, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
}

// 1. burst: one address, 40 searches a second for 2 minutes at 10:00.
{
  const out = [];
  benign(out);
  for (let i = 0; i < 4800; i++) out.push(ev(T0 + 120 * MIN + i * 25, '203.0.113.66', 'GET', '/api/v1/products', 'GET /api/v1/products', 'listing', 200));
  write('burst', out);
}
// 2. distributed crawler: 120 addresses, 3 product pages each, together walking ids 1..360 in order from 09:30.
{
  const out = [];
  benign(out);
  for (let k = 0; k < 360; k++) {
    const ip = `100.64.${Math.floor((k % 120) / 100)}.${(k % 120) % 100 + 1}`;
    out.push(ev(T0 + 90 * MIN + k * 2500, ip, 'GET', `/api/v1/products/${k + 1}`, 'GET /api/v1/products/{id}', 'detail', 200));
  }
  write('distributed_crawler', out);
}
// 3. credential stuffing: 80 addresses, 6 failed logins each, between 10:00 and 10:30, nothing else.
{
  const out = [];
  benign(out);
  for (let k = 0; k < 480; k++) {
    const ip = `192.0.2.${(k % 80) + 1}`;
    out.push(ev(T0 + 120 * MIN + k * 3750, ip, 'POST', '/api/v1/auth/login', 'POST /api/v1/auth/login', 'authentication', 401));
  }
  write('credential_stuffing', out);
}
// 4. verified crawler: Googlebot from its published range reading 600 product pages in order — set aside.
{
  const out = [];
  benign(out);
  for (let k = 0; k < 600; k++)
    out.push(ev(T0 + 60 * MIN + k * 6000, '66.249.66.1', 'GET', `/api/v1/products/${k + 1}`, 'GET /api/v1/products/{id}', 'detail', 200, { userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }));
  write('verified_crawler', out);
}
