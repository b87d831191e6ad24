import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../core/event.js';
import { tokenId } from '../core/identity.js';
import { Normalizer } from '../core/normalize.js';
import { isMalformed } from '../core/result.js';
import { buildParser } from '../parsers/registry.js';
import type { LineParser } from '../parsers/types.js';
import { ATTACK_TYPES, type AttackType } from './attacks.js';
import { DIURNAL, THINK_MEDIAN_MS, THINK_SIGMA, thinkTime } from './benign.js';
import type { SimRequest } from './engine.js';
import { isLuhnValid, isValidCnId } from './pii.js';
import { Rng } from './random.js';
import { RENDER_FORMATS, type RenderFormat, render } from './render.js';
import { DEFAULT_START, type Labels, type SimulateOptions, Simulation } from './simulate.js';
import { ROUTE_NAMES, ROUTES, Site } from './site.js';

const BASE: SimulateOptions = {
  seed: 7,
  start: DEFAULT_START,
  hours: 24,
  users: 1500,
  attacks: ATTACK_TYPES,
  attackScale: 1,
};

function runAll(o: Partial<SimulateOptions> = {}): { reqs: SimRequest[]; labels: Labels; sim: Simulation } {
  const sim = new Simulation({ ...BASE, ...o });
  const reqs: SimRequest[] = [];
  for (const b of sim.run()) for (const r of b) reqs.push(r);
  return { reqs, labels: sim.labels(), sim };
}

/** The default run, shared by the checks that only read it. */
const main = runAll();

function digest(reqs: SimRequest[], format: RenderFormat): string {
  const h = createHash('sha256');
  for (const r of reqs) h.update(`${render(format, r, r.index + 1, true)}\n`);
  return h.digest('hex');
}

describe('determinism', () => {
  it('gives the same bytes for the same seed, in every format, and different bytes for another seed', () => {
    const again = runAll();
    expect(again.reqs.length).toBe(main.reqs.length);
    for (const f of RENDER_FORMATS) expect(digest(again.reqs, f)).toBe(digest(main.reqs, f));
    expect(JSON.stringify(again.labels)).toBe(JSON.stringify(main.labels));
    const other = runAll({ seed: 8 });
    expect(digest(other.reqs, 'combined')).not.toBe(digest(main.reqs, 'combined'));
  });

  it('leaves benign traffic unchanged when campaigns are added or removed', () => {
    const none = runAll({ attacks: [] });
    const key = (r: SimRequest) => `${r.ts}|${r.actor}|${r.method} ${r.target}|${r.status}|${r.bytesOut}`;
    const benign = main.reqs.filter((r) => r.campaign === null).map(key);
    expect(none.reqs.every((r) => r.campaign === null)).toBe(true);
    expect(none.reqs.map(key)).toEqual(benign);
  });

  it('emits requests in time order with consecutive indices', () => {
    for (let i = 1; i < main.reqs.length; i++) {
      expect(main.reqs[i]!.index).toBe(i);
      if (main.reqs[i]!.ts < main.reqs[i - 1]!.ts) throw new Error(`out of order at ${i}`);
    }
  });
});

describe('every line parses with our own parsers', () => {
  const sample = main.reqs.filter((_, i) => i % 3 === 0);
  for (const format of RENDER_FORMATS) {
    it(format, () => {
      const built = buildParser(format, { normalizer: new Normalizer() });
      if (!built.ok) throw new Error(built.error);
      const parser = built.parser as LineParser;
      let checked = 0;
      for (const r of sample) {
        const line = render(format, r, r.index + 1, true);
        const e = parser.parseLine(line, { source: format, line: r.index + 1 });
        if (isMalformed(e))
          throw new Error(`${format} line ${r.index + 1}: ${e.reason} ${e.detail}\n${line}`);
        expect.soft(e.ip, `${format} ip`).toBe(r.ip);
        expect.soft(e.method).toBe(r.method);
        expect.soft(e.status).toBe(r.status);
        expect.soft(Math.abs(e.ts - r.ts) <= 60_000, `${format} time`).toBe(true);
        const path = r.target.split('?')[0]!;
        if (!path.includes('%') && !path.includes('..')) expect.soft(e.path).toBe(path);
        checked++;
      }
      expect(checked).toBe(sample.length);
    });
  }

  it('identifies the labeled tokens and users from APISIX lines', () => {
    const built = buildParser('apisix', { normalizer: new Normalizer() });
    if (!built.ok) throw new Error(built.error);
    const parser = built.parser as LineParser;
    for (const c of main.labels.campaigns) {
      const tokens = new Set<string>();
      const users = new Set<string>();
      for (const r of main.reqs) {
        if (r.campaign !== c.id) continue;
        const e = parser.parseLine(render('apisix', r, r.index + 1), {
          source: 'apisix',
          line: r.index + 1,
        }) as ApiEvent;
        if (e.token !== null) tokens.add(e.token);
        if (e.user !== null) users.add(e.user);
      }
      expect([...tokens].sort(), c.id).toEqual(c.actors.tokens);
      for (const u of users) expect(c.actors.users, c.id).toContain(u);
    }
  });
});

describe('labels', () => {
  const { reqs, labels } = main;

  it('count, place and name every campaign as the lines show it', () => {
    expect(labels.campaigns.map((c) => c.id)).toEqual([...ATTACK_TYPES]);
    const warm = Date.parse(labels.warmupEnd);
    for (const c of labels.campaigns) {
      const mine = reqs.filter((r) => r.campaign === c.id);
      expect(mine.length, c.id).toBe(c.requests);
      expect(mine.length, c.id).toBeGreaterThan(0);
      expect(mine[0]!.index + 1).toBe(c.firstLine);
      expect(mine.at(-1)!.index + 1).toBe(c.lastLine);
      const ips = new Set(mine.map((r) => r.ip));
      expect([...ips].sort(), c.id).toEqual(c.actors.ips);
      const devices = new Set(mine.flatMap((r) => (r.deviceId === null ? [] : [r.deviceId])));
      expect([...devices].sort()).toEqual(c.actors.devices);
      for (const r of mine) {
        expect(r.ts, c.id).toBeGreaterThanOrEqual(Date.parse(c.start) - 1);
        expect(r.ts, c.id).toBeLessThanOrEqual(Date.parse(c.end) + 60_000);
        expect(r.ts).toBeGreaterThanOrEqual(warm);
        expect(r.kind).toBe('attacker');
      }
    }
    // Nobody else is an attacker.
    expect(reqs.filter((r) => r.kind === 'attacker').length).toBe(
      labels.campaigns.reduce((s, c) => s + c.requests, 0),
    );
  });

  it('list exactly the forged requests, each forged the way its kind says', () => {
    const site = new Site({ seed: BASE.seed, users: BASE.users, products: 4_000 });
    const forged = reqs.filter((r) => r.forged !== null);
    expect(labels.forged.map((f) => f.line)).toEqual(forged.map((r) => r.index + 1));
    const kinds = new Set(forged.map((r) => r.forged));
    expect([...kinds].sort()).toEqual([
      'coupon_bruteforce',
      'foreign_object',
      'invalid_signature',
      'negative_quantity',
      'tampered_price',
    ]);
    for (const r of forged) {
      const url = new URL(r.target, 'https://x');
      const body = r.requestBody ? (JSON.parse(r.requestBody) as Record<string, number>) : null;
      const arg = (k: string) => Number(url.searchParams.get(k) ?? body?.[k]);
      switch (r.forged) {
        case 'tampered_price':
          expect(arg('price')).toBeLessThan(site.product(arg('product_id')).price);
          break;
        case 'negative_quantity':
          expect(arg('qty')).toBeLessThanOrEqual(0);
          expect(r.status === 400 || r.status >= 500 || r.status === 404).toBe(true);
          break;
        case 'invalid_signature': {
          const q = url.searchParams;
          expect(q.get('sign')).not.toBe(
            site.sign(q.get('order_id')!, q.get('amount')!, q.get('currency')!, Number(q.get('ts'))),
          );
          break;
        }
        case 'coupon_bruteforce':
          expect(ROUTE_NAMES[r.route]).toBe('coupon');
          break;
        default: {
          expect(r.campaign === 'bola' || r.campaign === 'slow_exfiltration').toBe(true);
          const own = JSON.parse(Buffer.from(r.auth!.split('.')[1]!, 'base64url').toString()).sub;
          expect(r.target).toMatch(/^\/api\/v1\/users\/\d+\//);
          expect(r.target).not.toContain(`/users/${own}/`);
        }
      }
    }
  });

  it('tag token ids the way apiwarden computes them', () => {
    const bola = labels.campaigns.find((c) => c.id === 'bola')!;
    const r = reqs.find((x) => x.campaign === 'bola')!;
    expect(bola.actors.tokens).toEqual([tokenId(r.auth!.slice('Bearer '.length))]);
  });

  it('describe the benign look-alikes', () => {
    const ids = labels.benign.map((b) => b.id);
    expect(ids).toEqual([
      'flash_sale',
      'staff',
      'partners',
      'googlebot',
      'bingbot',
      'monitors',
      'payment_provider',
      'upstream_incident',
      'carrier_nat',
    ]);
    for (const b of labels.benign) expect(b.requests, b.id).toBeGreaterThan(0);
    const google = labels.benign.find((b) => b.id === 'googlebot')!;
    for (const ip of google.actors.ips) expect(ip).toMatch(/^66\.249\.(6[4-9]|7\d)\./);
    const sale = labels.benign.find((b) => b.id === 'flash_sale')!;
    const inSale = reqs.filter((r) => r.event === 'flash_sale');
    expect(inSale.length).toBe(sale.requests);
    // A burst: most of the sale's orders land within its first minutes.
    const orders = inSale.filter((r) => ROUTE_NAMES[r.route] === 'createOrderV2');
    expect(orders.length).toBeGreaterThan(50);
    const at = Date.parse(sale.start!) + 120_000;
    expect(orders.filter((r) => r.ts < at + 3 * 60_000).length / orders.length).toBeGreaterThan(0.8);
    const inc = labels.benign.find((b) => b.id === 'upstream_incident')!;
    const fiveXx = Object.entries(inc.statuses).reduce((s, [k, n]) => (k.startsWith('5') ? s + n : s), 0);
    expect(fiveXx / inc.requests).toBeGreaterThan(0.02);
  });
});

describe('statistical shape', () => {
  const { reqs } = main;

  it('follows the diurnal curve', () => {
    const perHour = new Array<number>(24).fill(0);
    for (const r of reqs)
      if (r.kind === 'browser' || r.kind === 'mobile')
        if (r.event === null) perHour[new Date(r.ts).getUTCHours()]!++;
    const peak = Math.max(perHour[19]!, perHour[20]!, perHour[21]!);
    const trough = Math.min(perHour[2]!, perHour[3]!, perHour[4]!);
    expect(peak / trough).toBeGreaterThan(4);
    // Hour shares track the curve: correlation above 0.9.
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    const mx = mean(perHour);
    const my = mean(DIURNAL);
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let h = 0; h < 24; h++) {
      sxy += (perHour[h]! - mx) * (DIURNAL[h]! - my);
      sxx += (perHour[h]! - mx) ** 2;
      syy += (DIURNAL[h]! - my) ** 2;
    }
    expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.9);
  });

  it('keeps attacks a minority share that --attack-scale multiplies', () => {
    const attack = reqs.filter((r) => r.campaign !== null).length / reqs.length;
    expect(attack).toBeGreaterThan(0.05);
    expect(attack).toBeLessThan(0.5);
    const scaled = runAll({ attacks: ['crawler', 'bola'] as AttackType[], attackScale: 2 });
    expect(scaled.labels.campaigns.map((c) => [c.id, c.requests])).toEqual([
      ['crawler', 3000],
      ['bola', 1600],
    ]);
  });

  it('draws think times log-normally around the documented median', () => {
    const r = new Rng(1);
    const xs = Array.from({ length: 20_000 }, () => Math.log(thinkTime(r)));
    xs.sort((a, b) => a - b);
    const median = Math.exp(xs[xs.length >> 1]!);
    expect(Math.abs(median / THINK_MEDIAN_MS - 1)).toBeLessThan(0.05);
    const mu = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mu) ** 2, 0) / xs.length);
    expect(Math.abs(sd - THINK_SIGMA)).toBeLessThan(0.05);
    // In the output: gaps between a mobile customer's screens (over 1 s) have a median of seconds, not ms or hours.
    const last = new Map<string, number>();
    const gaps: number[] = [];
    for (const x of reqs) {
      if (x.kind !== 'mobile' || x.event !== null) continue;
      const prev = last.get(x.actor);
      if (prev !== undefined && x.ts - prev > 1_000 && x.ts - prev < 600_000) gaps.push(x.ts - prev);
      last.set(x.actor, x.ts);
    }
    gaps.sort((a, b) => a - b);
    const g = gaps[gaps.length >> 1]!;
    expect(g).toBeGreaterThan(3_000);
    expect(g).toBeLessThan(30_000);
  });

  it('has realistic error noise and route coverage', () => {
    const benign = reqs.filter((r) => r.campaign === null);
    const s5 = benign.filter((r) => r.status >= 500).length / benign.length;
    const s4 = benign.filter((r) => r.status >= 400 && r.status < 500).length / benign.length;
    expect(s5).toBeGreaterThan(0.0003);
    expect(s5).toBeLessThan(0.01);
    expect(s4).toBeGreaterThan(0.01);
    expect(s4).toBeLessThan(0.15);
    const hit = new Set(reqs.map((r) => r.route));
    // Every route of the table is called at least once in a day.
    const unused = ROUTE_NAMES.filter((_, i) => !hit.has(i));
    expect(unused).toEqual([]);
    expect(ROUTE_NAMES.length).toBeGreaterThanOrEqual(40);
    expect(Object.values(ROUTES).filter((r) => r.template.startsWith('/api/v2')).length).toBeGreaterThan(3);
  });
});

describe('personal data', () => {
  it('carries valid CN resident ids and Luhn-valid cards in responses', () => {
    const bodies = main.reqs.filter(
      (r) => r.responseBody && /\/(profile|cards)$/.test(r.target.split('?')[0]!),
    );
    let ids = 0;
    let cards = 0;
    for (const r of bodies) {
      const b = r.responseBody!;
      for (const m of b.matchAll(/"id_card":"([0-9X]+)"/g)) {
        expect(isValidCnId(m[1]!)).toBe(true);
        ids++;
      }
      for (const m of b.matchAll(/"number":"(\d+)"/g)) {
        expect(isLuhnValid(m[1]!)).toBe(true);
        cards++;
      }
    }
    expect(ids).toBeGreaterThan(20);
    expect(cards).toBeGreaterThan(5);
    expect(isValidCnId('11010519491231002X')).toBe(true);
    expect(isValidCnId('110105194912310021')).toBe(false);
    expect(isLuhnValid('4111111111111111')).toBe(true);
    expect(isLuhnValid('4111111111111112')).toBe(false);
  });
});
