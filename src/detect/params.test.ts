import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../core/event.js';
import {
  combine,
  type ParamJson,
  ParamProfile,
  ParamProfiler,
  ParamScorer,
  ProfileError,
  type Reason,
  type ScorerOptions,
  statusFactor,
  weightOf,
} from './params.js';
import { requestParams, templateParams } from './params-request.js';
import { charMask, clockOffset, maskClasses, stringType } from './params-value.js';

/**
 * Golden cases: testdata/params/<case>/ holds train.jsonl and events.jsonl (one partial ApiEvent per line:
 * `method` and `path` at least; `query`, `requestBody` (a JSON value is stringified), `status` (default 200),
 * `ts` (default: 2026-03-02 plus one second per line), `ip`, `user`, `token` optional) and expected.json:
 * per scored line, the score's bounds and the exact set of (param, check) reasons.
 */
const CASES = join(import.meta.dirname, '..', '..', 'testdata', 'params');
const T0 = Date.UTC(2026, 2, 2);

interface Partial {
  method: string;
  path: string;
  query?: Record<string, string | string[]> | null;
  requestBody?: unknown;
  status?: number;
  ts?: number;
  ip?: string;
  host?: string | null;
  user?: string | null;
  token?: string | null;
}

function event(p: Partial, line: number, source = 'test'): ApiEvent {
  const query =
    p.query === undefined || p.query === null
      ? null
      : (Object.assign(Object.create(null), p.query) as Record<string, string | string[]>);
  return {
    ts: p.ts ?? T0 + line * 1000,
    ip: p.ip ?? '203.0.113.7',
    method: p.method,
    host: p.host ?? null,
    path: p.path,
    query,
    status: p.status ?? 200,
    bytesOut: null,
    bytesIn: null,
    latencyMs: null,
    userAgent: null,
    referer: null,
    token: p.token ?? null,
    user: p.user ?? null,
    device: null,
    protocol: null,
    ...(p.requestBody === undefined
      ? {}
      : { requestBody: typeof p.requestBody === 'string' ? p.requestBody : JSON.stringify(p.requestBody) }),
    origin: { source, line },
  };
}

const readEvents = (file: string): ApiEvent[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => event(JSON.parse(l) as Partial, i + 1, file));

function train(events: Iterable<ApiEvent>, o = {}): ParamProfile {
  const p = new ParamProfiler(o);
  for (const e of events) p.add(e);
  return p.finish();
}

interface Expected {
  description: string;
  /** Scorer options of the case (`selfTrained`: the training traffic is the scored day's). */
  scorer?: ScorerOptions;
  events: { line: number; score: [number, number]; reasons: [string, string][]; note?: string }[];
}

const cases = readdirSync(CASES).sort();

describe('param profile: golden cases', () => {
  it('has the cases', () => {
    expect(cases).toEqual([
      'bola',
      'enum-missing-unknown',
      'format',
      'little-data',
      'range',
      'relation',
      'status-clock',
      'type',
    ]);
  });
  for (const name of cases) {
    it(name, () => {
      const profile = train(readEvents(join(CASES, name, 'train.jsonl')));
      const expected = JSON.parse(readFileSync(join(CASES, name, 'expected.json'), 'utf8')) as Expected;
      const scorer = new ParamScorer(profile, expected.scorer);
      const events = readEvents(join(CASES, name, 'events.jsonl'));
      expect(expected.events.map((x) => x.line)).toEqual(events.map((e) => e.origin.line));
      for (const x of expected.events) {
        const r = scorer.score(events[x.line - 1]!);
        const got = r.reasons.map((q) => [q.param, q.check]).sort();
        const label = `${name} line ${x.line} (${x.note ?? ''}): ${JSON.stringify(r)}`;
        expect(got, label).toEqual([...x.reasons].sort());
        expect(r.score, label).toBeGreaterThanOrEqual(x.score[0]);
        expect(r.score, label).toBeLessThanOrEqual(x.score[1]);
        for (const q of r.reasons) {
          expect(q.weight, label).toBeGreaterThan(0);
          expect(q.weight, label).toBeLessThanOrEqual(1);
          expect(q.observed.length + q.expected.length, label).toBeGreaterThan(0);
        }
      }
    });
  }

  it('scores every case the same after a JSON round trip of the profile', () => {
    for (const name of cases) {
      const profile = train(readEvents(join(CASES, name, 'train.jsonl')));
      const text = JSON.stringify(profile.toJSON());
      const back = ParamProfile.fromJSON(JSON.parse(text));
      expect(JSON.stringify(back.toJSON()), name).toBe(text);
      const a = new ParamScorer(profile);
      const b = new ParamScorer(back);
      for (const e of readEvents(join(CASES, name, 'events.jsonl')))
        expect(b.score(e), name).toEqual(a.score(e));
    }
  });
});

describe('param profile: what is learned', () => {
  it('profiles query, path and flattened JSON body parameters per endpoint', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 50; i++)
      evs.push(
        event(
          {
            method: 'POST',
            path: `/api/carts/${1000 + i}/checkout`,
            query: { coupon: i % 2 === 0 ? 'A10' : 'B20' },
            requestBody: { items: [{ sku: `S${i}`, qty: 1 + (i % 3) }], note: null, ship: { zip: '10001' } },
            status: 201,
          },
          i + 1,
        ),
      );
    const j = train(evs).toJSON();
    expect(j.endpoints.map((e) => `${e.method} ${e.template}`)).toEqual(['POST /api/carts/{id}/checkout']);
    const ep = j.endpoints[0]!;
    expect(Object.keys(ep.params).sort()).toEqual([
      'body.items',
      'body.items[]',
      'body.items[].qty',
      'body.items[].sku',
      'body.note',
      'body.ship',
      'body.ship.zip',
      'path.id',
      'query.coupon',
    ]);
    expect(ep).toMatchObject({ requests: 50, jsonBodies: 50, status: { 201: 50 }, paramsOverflow: 0 });
    const qty = ep.params['body.items[].qty']!;
    expect(qty).toMatchObject({ requests: 50, kinds: { num: 50 }, types: { integer: 50 } });
    expect(qty.numeric).toMatchObject({ n: 50, min: 1, max: 3, negative: 0, zero: 0 });
    expect(ep.params['query.coupon']!.tally).toEqual({ A10: 25, B20: 25 });
    expect(ep.params['body.note']!.types).toEqual({ null: 50 });
    expect(ep.params['path.id']!.numeric).toMatchObject({ min: 1000, max: 1049 });
    expect(ep.params['body.ship.zip']!.types).toEqual({ integer: 50 });
    expect(ep.params['body.ship.zip']!.kinds).toEqual({ str: 50 });
  });

  it('merges keys of one template: word segments that became a parameter count as its values', () => {
    const evs: ApiEvent[] = [];
    // `me` carries a large share of the position's traffic and stays literal; 30 user names become {name}.
    const names = Array.from({ length: 30 }, (_, i) => `user${String.fromCharCode(97 + (i % 26))}${i}x`);
    for (let i = 0; i < 300; i++)
      evs.push(event({ method: 'GET', path: `/u/${i % 2 === 0 ? 'me' : names[(i >> 1) % 30]}/feed` }, i + 1));
    const j = train(evs).toJSON();
    expect(j.endpoints.map((e) => e.template).sort()).toEqual(['/u/me/feed', '/u/{name}/feed']);
    const p = j.endpoints.find((e) => e.template === '/u/{name}/feed')!.params['path.name']!;
    expect(p.requests).toBe(150);
    expect(p.types).toEqual({ string: 150 });
    expect(p.minLength).toBeGreaterThanOrEqual(7);
  });

  it('learns a relation only when the value follows the id, not when it is near-constant or random', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const id = i % 40;
      evs.push(
        event(
          {
            method: 'GET',
            path: '/quote',
            query: {
              id: String(id),
              price: String(10 + id * 3),
              qty: i % 10 === 0 ? '2' : '1',
              noise: String((i * 7919) % 101),
            },
          },
          i + 1,
        ),
      );
    }
    const j = train(evs).toJSON();
    const rel = j.endpoints[0]!.relations.map((r) => `${r.x} -> ${r.y}`);
    expect(rel).toContain('query.id -> query.price');
    // qty is nearly constant: no information; noise is refuted by the repeated ids.
    expect(rel).not.toContain('query.id -> query.qty');
    expect(rel).not.toContain('query.id -> query.noise');
    const s = new ParamScorer(train(evs));
    const bad = s.score(
      event({ method: 'GET', path: '/quote', query: { id: '5', price: '1', qty: '1', noise: '3' } }, 1),
    );
    expect(bad.reasons.map((r) => `${r.param}:${r.check}`)).toContain('query.price:relation');
    const good = s.score(
      event({ method: 'GET', path: '/quote', query: { id: '5', price: '25', qty: '1', noise: '3' } }, 1),
    );
    expect(good.score).toBe(0);
  });

  it("learns that a path id is the caller's own, exempting the few callers seen reading others' ids", () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 400; i++) {
      // Support staff with ids of the customers' kind (integers): a few callers reading many ids.
      const staff = i % 4 === 0;
      const user = staff ? String(900 + (i % 3)) : String(100000 + (i % 97));
      const id = staff ? String(100000 + ((i * 31) % 97)) : user;
      evs.push(event({ method: 'GET', path: `/users/${id}/profile`, user }, i + 1));
    }
    const s = new ParamScorer(train(evs));
    const score = (user: string, id: string) =>
      s.score(event({ method: 'GET', path: `/users/${id}/profile`, user }, 1));
    expect(score('100005', '100005').score).toBe(0);
    expect(score('901', '100032').score).toBe(0);
    const foreign = score('100005', '100006');
    expect(foreign.reasons.map((r) => `${r.param}:${r.check}`)).toEqual(['path.id:relation']);
    expect(foreign.reasons[0]!.expected).toContain('3 others read other ids and are exempt');
  });

  it('compares a parameter only with callers whose id is of its type: staff accounts do not break the relation', () => {
    // Half the requests are staff accounts (`staff-N`, another id namespace) reading customers' profiles.
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const staff = i % 2 === 0;
      const user = staff ? `staff-${i % 7}` : String(100000 + (i % 97));
      const id = staff ? String(100000 + ((i * 31) % 500)) : user;
      evs.push(event({ method: 'GET', path: `/users/${id}/profile`, user }, i + 1));
    }
    const profile = train(evs);
    const a = profile.endpoints.get('GET /users/{id}/profile')!.params.get('path.id')!.toJSON().actor;
    expect(a.others).toEqual({});
    expect(a.users).toBe(97);
    const s = new ParamScorer(profile);
    const score = (user: string, id: string) =>
      s.score(event({ method: 'GET', path: `/users/${id}/profile`, user }, 1));
    // A staff account never seen in training reads a customer: not the customer relation's business.
    expect(score('staff-99', '100321').score).toBe(0);
    const foreign = score('100005', '100006');
    expect(foreign.reasons.map((r) => `${r.param}:${r.check}`)).toEqual(['path.id:relation']);
    expect(foreign.score).toBeGreaterThan(0.45); // 97 callers: p = 1/196
    expect(foreign.reasons[0]!.observed).toBe('100006, the caller is user 100005');
  });

  it('learned from the traffic it scores (selfTrained), a caller seen reading other ids is not exempt', () => {
    // The BOLA caller 100500 is in the training traffic (a few of its reads), as on the attacked day.
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const user = String(100000 + (i % 97));
      evs.push(event({ method: 'GET', path: `/users/${user}/profile`, user, token: `t${user}` }, i + 1));
    }
    for (let i = 0; i < 5; i++)
      evs.push(
        event(
          { method: 'GET', path: `/users/${100050 + i}/profile`, user: '100500', token: 'tbola' },
          500 + i,
        ),
      );
    const profile = train(evs);
    const bola = event({ method: 'GET', path: '/users/100060/profile', user: '100500', token: 'tbola' }, 1);
    // Trained on separate traffic, what a caller did in training is normal for it.
    expect(new ParamScorer(profile).score(bola).score).toBe(0);
    const r = new ParamScorer(profile, { selfTrained: true }).score(bola);
    expect(r.reasons.map((x) => `${x.param}:${x.check}`)).toEqual(['path.id:relation']);
    expect(r.score).toBeGreaterThan(0.45);
    expect(r.reasons[0]!.expected).toContain('for 97 of 97 training callers');
    expect(r.reasons[0]!.expected).toContain('this caller did too, in training traffic not vetted as normal');
    // The callers' own reads stay clean.
    const own = event({ method: 'GET', path: '/users/100005/profile', user: '100005', token: 't100005' }, 1);
    expect(new ParamScorer(profile, { selfTrained: true }).score(own).score).toBe(0);
    // A profile learned with selfTrained (apiwarden analyze) is marked so, through JSON, and its scorers follow
    // the mark whichever traffic they judge later.
    const p = new ParamProfiler({ selfTrained: true });
    for (const e of evs) p.add(e);
    const j = p.finish().toJSON();
    expect(j.selfTrained).toBe(true);
    expect(profile.toJSON().selfTrained).toBeUndefined();
    const back = ParamProfile.fromJSON(JSON.parse(JSON.stringify(j)));
    expect(back.selfTrained).toBe(true);
    expect(new ParamScorer(back).score(bola).score).toBe(r.score);
    expect(() => ParamProfile.fromJSON({ ...j, selfTrained: 'yes' })).toThrow(
      'selfTrained: expected true or false',
    );
  });

  it('pools the actor relation over the endpoints of one resource', () => {
    // The profile is read by 97 callers; the cards by 12 of them, too few for a strong finding alone.
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const user = String(100000 + (i % 97));
      evs.push(event({ method: 'GET', path: `/users/${user}/profile`, user }, i + 1));
      if (i % 97 < 12) evs.push(event({ method: 'GET', path: `/users/${user}/cards`, user }, i + 1));
    }
    for (let i = 0; i < 30; i++)
      evs.push(event({ method: 'GET', path: `/products/${i}`, user: String(100000 + i) }, 900 + i));
    const s = new ParamScorer(train(evs));
    const r = s.score(event({ method: 'GET', path: '/users/100006/cards', user: '100005' }, 1));
    expect(r.reasons.map((x) => `${x.param}:${x.check}`)).toEqual(['path.id:relation']);
    expect(r.reasons[0]!.expected).toContain('2 endpoints of /users/{id}');
    expect(r.score).toBeGreaterThan(0.45); // 12 callers alone would give 0.06
    // Not another resource's id.
    expect(s.score(event({ method: 'GET', path: '/products/7', user: '100005' }, 1)).score).toBe(0);
  });

  it('does not let a few callers widen a range: the extremes are those enough callers reached', () => {
    // 300 customers order at prices from 20 to 2,000; on the same day three callers send 0.01 (five each).
    const evs: ApiEvent[] = [];
    let line = 0;
    for (let i = 0; i < 900; i++) {
      const price = (20 * 100 ** (((i * 37) % 900) / 900)).toFixed(2);
      evs.push(event({ method: 'POST', path: '/orders', query: { price }, token: `c${i % 300}` }, ++line));
    }
    for (let a = 0; a < 3; a++)
      for (let k = 0; k < 5; k++)
        evs.push(
          event({ method: 'POST', path: '/orders', query: { price: '0.01' }, token: `bad${a}` }, ++line),
        );
    const profile = train(evs);
    const num = profile.endpoints.get('POST /orders')!.params.get('query.price')!.toJSON().numeric!;
    expect(num.min).toBe(0.01);
    expect(num.low).toBeGreaterThan(19);
    expect(num.high).toBeLessThanOrEqual(num.max);
    const s = new ParamScorer(profile);
    const score = (price: string) => s.score(event({ method: 'POST', path: '/orders', query: { price } }, 1));
    const r = score('0.01');
    expect(r.reasons.map((x) => `${x.param}:${x.check}`)).toEqual(['query.price:range']);
    expect(r.score).toBeGreaterThan(0.8);
    expect(r.reasons[0]!.expected).toContain('0.01..');
    expect(r.reasons[0]!.expected).toContain('with values too few callers sent');
    expect(score('2').score).toBeGreaterThan(0.2); // a decade below: the tail scale is a quarter of the IQR here
    expect(score('25').score).toBe(0);
    // The same values from enough callers (a 20th of them, at most 8) are normal.
    for (let a = 0; a < 10; a++)
      evs.push(
        event({ method: 'POST', path: '/orders', query: { price: '0.01' }, token: `many${a}` }, ++line),
      );
    expect(
      new ParamScorer(train(evs)).score(
        event({ method: 'POST', path: '/orders', query: { price: '0.01' } }, 1),
      ).score,
    ).toBe(0);
  });

  it('keeps a trimmed whole-number value weak: a page that is nearly always 2', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 400; i++)
      evs.push(
        event(
          { method: 'GET', path: '/search', query: { page: i === 7 ? '3' : '2' }, token: `c${i}` },
          i + 1,
        ),
      );
    const s = new ParamScorer(train(evs));
    const score = (page: string) => s.score(event({ method: 'GET', path: '/search', query: { page } }, 1));
    expect(score('3').score).toBeLessThan(0.05);
    expect(score('9').score).toBeGreaterThan(0.5);
  });

  it('reads a profile written before the robust extremes with its exact extremes', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 400; i++)
      evs.push(
        event({ method: 'GET', path: '/x', query: { n: String(10 + (i % 50)) }, token: `c${i}` }, i + 1),
      );
    evs.push(event({ method: 'GET', path: '/x', query: { n: '1000' }, token: 'one' }, 401));
    const j = train(evs).toJSON();
    const num = j.endpoints[0]!.params['query.n']!.numeric!;
    expect(num.high).toBe(59);
    const old = JSON.parse(JSON.stringify(j));
    delete old.endpoints[0].params['query.n'].numeric.low;
    delete old.endpoints[0].params['query.n'].numeric.high;
    const x = event({ method: 'GET', path: '/x', query: { n: '900' } }, 1);
    expect(new ParamScorer(ParamProfile.fromJSON(old)).score(x).score).toBe(0);
    expect(new ParamScorer(ParamProfile.fromJSON(j)).score(x).score).toBeGreaterThan(0.5);
  });

  it('checks a relation on every element of an array (each order line)', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const a = i % 20;
      const b = (i * 7) % 20;
      evs.push(
        event(
          {
            method: 'POST',
            path: '/orders',
            requestBody: {
              items: [
                { sku: `P${a}`, unit: 5 + a * 2 },
                { sku: `P${b}`, unit: 5 + b * 2 },
              ],
            },
          },
          i + 1,
        ),
      );
    }
    const s = new ParamScorer(train(evs));
    const body = {
      items: [
        { sku: 'P3', unit: 11 },
        { sku: 'P4', unit: 0.5 },
      ],
    };
    const r = s.score(event({ method: 'POST', path: '/orders', requestBody: body }, 1));
    expect(r.reasons.filter((x) => x.check === 'relation').map((x) => x.observed)).toEqual([
      '0.5 with body.items[].sku = P4',
    ]);
  });

  it('learns the normal status mix per endpoint', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 200; i++)
      evs.push(event({ method: 'POST', path: '/login', status: i % 5 === 0 ? 401 : 200 }, i + 1));
    const s = new ParamScorer(train(evs));
    // 401 is 20% of logins: hardly evidence; 403 never happened.
    expect(s.score(event({ method: 'POST', path: '/login', status: 401 }, 1)).score).toBeLessThan(0.02);
    expect(s.score(event({ method: 'POST', path: '/login', status: 403 }, 1)).reasons[0]).toMatchObject({
      param: 'status',
      check: 'status',
      observed: '403',
    });
  });
});

describe('param profile: bounded memory under attacker-controlled keys and values', () => {
  it('caps parameter names per endpoint (10,000 distinct names) and counts the overflow', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 10_000; i++)
      evs.push(event({ method: 'GET', path: '/search', query: { q: 'x', [`k${i}`]: String(i) } }, i + 1));
    const profile = train(evs);
    const ep = profile.toJSON().endpoints[0]!;
    expect(Object.keys(ep.params).length).toBe(200);
    expect(ep.paramsOverflow).toBe(10_000 - 199);
    expect(JSON.stringify(profile.toJSON()).length).toBeLessThan(400_000);
    // Scoring a request with 10,000 names: bounded work, a bounded list of reasons, no unknown_param findings
    // (the endpoint overflowed, so new names are expected there).
    const q: Record<string, string> = { q: 'x' };
    for (let i = 0; i < 10_000; i++) q[`z${i}`] = '1';
    const r = new ParamScorer(profile).score(event({ method: 'GET', path: '/search', query: q }, 1));
    expect(r.reasons.length).toBeLessThanOrEqual(12);
    expect(r.reasons.filter((x) => x.check === 'unknown_param')).toEqual([]);
  });

  it('scores a request with 10,000 unknown names on a stable endpoint with a bounded list', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 300; i++)
      evs.push(event({ method: 'GET', path: '/items', query: { page: '1' } }, i + 1));
    const q: Record<string, string> = { page: '1' };
    for (let i = 0; i < 10_000; i++) q[`__proto__${i}`] = '1';
    const r = new ParamScorer(train(evs)).score(event({ method: 'GET', path: '/items', query: q }, 1));
    // Only the first 256 values of a request are read.
    expect(r.reasons.length).toBe(12);
    expect(r.reasons.every((x) => x.check === 'unknown_param')).toBe(true);
    expect(r.score).toBeGreaterThan(0.99);
  });

  it('caps tallies, samples, relation ids and endpoints', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 10_000; i++)
      evs.push(
        event(
          {
            method: 'GET',
            path: '/p',
            query: { v: `value-${i}`, n: String(i), id: String(i), price: String(i * 2) },
          },
          i + 1,
        ),
      );
    const j = train(evs, { maxRelationIds: 100 }).toJSON();
    const ep = j.endpoints[0]!;
    expect(ep.params['query.v']!.tally).toBeNull();
    expect(ep.params['query.n']!.numeric!.sample.length).toBe(256);
    expect(ep.params['query.n']!.numeric).toMatchObject({ n: 10_000, min: 0, max: 9999 });
    for (const r of ep.relations) expect(Object.keys(r.map).length).toBeLessThanOrEqual(100);
    const many: ApiEvent[] = [];
    for (let i = 0; i < 300; i++) many.push(event({ method: `M${i}`, path: '/x' }, i + 1));
    const k = train(many, { maxEndpoints: 50 }).toJSON();
    expect(k.endpoints.length).toBe(50);
    expect(k.skipped).toBe(250);
  });

  it('keeps attacker strings as data (__proto__ as a name and a value)', () => {
    const evs: ApiEvent[] = [];
    for (let i = 0; i < 60; i++)
      evs.push(
        event(
          { method: 'GET', path: '/x', query: { ['__proto__']: i % 2 ? '__proto__' : 'constructor' } },
          i + 1,
        ),
      );
    const profile = train(evs);
    const text = JSON.stringify(profile.toJSON());
    const back = ParamProfile.fromJSON(JSON.parse(text));
    const p = back.toJSON().endpoints[0]!.params['query.__proto__'] as ParamJson;
    expect(Object.entries(p.tally!)).toEqual([
      ['__proto__', 30],
      ['constructor', 30],
    ]);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });
});

describe('param profile: JSON form', () => {
  it('is versioned and refuses other formats and versions with a one-line reason', () => {
    const j = train([event({ method: 'GET', path: '/x', query: { a: '1' } }, 1)]).toJSON();
    expect(j).toMatchObject({ format: 'apiwarden-param-profile', version: 1, requests: 1 });
    expect(() => ParamProfile.fromJSON({ ...j, version: 2 })).toThrow(ProfileError);
    expect(() => ParamProfile.fromJSON({ ...j, version: 2 })).toThrow(/version 2 is not supported/);
    expect(() => ParamProfile.fromJSON({ hello: 1 })).toThrow(/not an apiwarden param profile/);
    const broken = JSON.parse(JSON.stringify(j));
    broken.endpoints[0].params['query.a'].numeric.min = 'x';
    expect(() => ParamProfile.fromJSON(broken)).toThrow(
      'endpoints[0].params["query.a"].numeric.min: expected a number',
    );
  });
});

describe('param scoring: parts', () => {
  it('classifies values', () => {
    const t = (s: string) => stringType(s);
    expect(['', '42', '-7', '3.14', '1e5', 'true', 'FALSE'].map(t)).toEqual([
      'empty',
      'integer',
      'integer',
      'decimal',
      'decimal',
      'boolean',
      'boolean',
    ]);
    expect(t('0b7e1f3c-6a1d-4c55-9a8e-2f1b3c4d5e6f')).toBe('uuid');
    expect(t('deadbeef00')).toBe('hex');
    expect(t('kim@example.com')).toBe('email');
    expect(t('+1 (415) 555-0100')).toBe('phone');
    expect(t('2026-03-02')).toBe('date');
    expect(t('2026-03-02T10:00:00Z')).toBe('datetime');
    expect(t('[token:0123456789abcdef]')).toBe('secret');
    expect(t('[redacted]')).toBe('secret');
    expect(t('hello world')).toBe('string');
    expect(maskClasses(charMask("a1-B <'é"))).toEqual([
      'digit',
      'lower',
      'upper',
      'space',
      'dash',
      'quote',
      'bracket',
      'nonascii',
    ]);
    expect(clockOffset(1772409660, T0)).toBe(60);
    expect(clockOffset(1772409660000, T0)).toBe(60);
    expect(clockOffset(42, T0)).toBeNull();
  });

  it('reads parameters of a request with scopes, and names path parameters from the template', () => {
    expect(templateParams('/a/{id}/b/{id}')).toEqual([
      [2, 'path.id'],
      [4, 'path.id_4'],
    ]);
    const r = requestParams(
      event(
        {
          method: 'POST',
          path: '/a/7',
          query: { x: ['1', '2'] },
          requestBody: { a: 1, o: { b: 2 }, l: [{ c: 3 }, 4] },
        },
        1,
      ),
      [[2, 'path.id']],
    );
    expect(r.body).toBe('json');
    expect(r.values.map((v) => `${v.name}@${v.scope}`)).toEqual([
      'path.id@0',
      'query.x@0',
      'query.x@0',
      'body.a@0',
      'body.o@0',
      'body.o.b@1',
      'body.l@0',
      'body.l[]@0',
      'body.l[].c@2',
      'body.l[]@0',
    ]);
    const big = requestParams(
      event({ method: 'POST', path: '/', requestBody: `[${'1,'.repeat(40_000)}1]` }, 1),
      [],
    );
    expect(big.body).toBe('too_large');
    const text = requestParams(event({ method: 'POST', path: '/', requestBody: 'a=1&b=2' }, 1), []);
    expect(text.body).toBe('not_json');
  });

  it('maps probabilities to weights and combines reasons', () => {
    // Up to 1-in-10 findings weigh at most 0.02: they order requests but never flag one.
    expect(weightOf(1)).toBe(0);
    expect(weightOf(0.2)).toBeCloseTo(0.014, 3);
    expect(weightOf(0.1)).toBeCloseTo(0.02, 10);
    expect(weightOf(0.01)).toBeCloseTo(0.34, 2);
    expect(weightOf(0.001)).toBeCloseTo(0.8, 2);
    expect(weightOf(1e-4)).toBeGreaterThan(0.97);
    for (let p = 1; p > 1e-9; p /= 1.5) expect(weightOf(p / 1.5)).toBeGreaterThan(weightOf(p));
    const r = (param: string, weight: number): Reason => ({
      param,
      check: 'range',
      observed: '',
      expected: '',
      weight,
    });
    expect(combine([])).toBe(0);
    expect(combine([r('a', 0.5)])).toBe(0.5);
    expect(combine([r('a', 0.5), r('b', 0.5)])).toBe(0.75);
    // A second finding on the same parameter counts at half weight.
    expect(combine([r('a', 0.5), r('a', 0.5)])).toBe(0.625);
    expect([400, 401, 403, 422].map(statusFactor)).toEqual([1, 1, 1, 1]);
    expect([200, 302, 500, 503, 499].map(statusFactor)).toEqual([0, 0, 0, 0, 0]);
    expect(statusFactor(404)).toBeLessThan(1);
    expect(statusFactor(429)).toBeLessThan(statusFactor(409));
  });
});
