import { describe, expect, it } from 'vitest';
import type { FeatureEvent } from '../../features/enrich.js';
import type { Finding } from '../alerts.js';
import type { DetectorContext } from '../detector.js';
import { BehaviourDetector, BehaviourTrainer } from './behaviour.js';

let seq = 0;
const ev = (ts: number, ip: string, extra: Partial<FeatureEvent> = {}): FeatureEvent => ({
  ts,
  seq: seq++,
  ip,
  device: null,
  token: null,
  user: null,
  host: 'h',
  method: 'GET',
  path: '/api/items',
  endpoint: 'GET /api/items',
  scenario: 'listing',
  status: 200,
  latencyMs: 10,
  bytesOut: 500,
  bytesIn: null,
  userAgent: 'ua',
  numericId: null,
  sensitive: [],
  ...extra,
});

/** 400 addresses browsing for two hours: 10-20 API requests and a few assets per 10 minutes. */
function traffic(attack: boolean): FeatureEvent[] {
  const out: FeatureEvent[] = [];
  let r = 12345;
  const rnd = () => {
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    return r / 2 ** 32;
  };
  for (let w = 0; w < 12; w++)
    for (let a = 0; a < 400; a++) {
      const ip = `10.0.${a >> 8}.${a & 255}`;
      const n = 10 + Math.floor(rnd() * 10);
      for (let i = 0; i < n; i++) {
        const ts = w * 600_000 + Math.floor(rnd() * 599_000);
        out.push(
          ev(ts, ip, i % 4 === 0 ? { scenario: 'static', path: '/app.js', endpoint: 'GET /app.js' } : {}),
        );
      }
    }
  if (attack)
    // An ordinary volume (14 requests), but every one a failed login and no page assets.
    for (let i = 0; i < 14; i++)
      out.push(
        ev(6 * 600_000 + i * 40_000, '203.0.113.5', {
          method: 'POST',
          path: '/api/login',
          endpoint: 'POST /api/login',
          scenario: 'authentication',
          status: 401,
        }),
      );
  return out.sort((x, y) => x.ts - y.ts);
}

describe('behaviour model (Isolation Forest over 10-minute windows)', () => {
  it('learns from windows, then flags a window of failed logins and explains it by its features', () => {
    const t = new BehaviourTrainer();
    for (const e of traffic(false)) t.windows.add(e);
    const model = t.build()!;
    expect(model).not.toBeNull();
    expect(model.trainingWindows).toBeGreaterThan(2000);
    const found: Finding[] = [];
    const ctx = { emit: (f: Finding) => found.push(f) } as unknown as DetectorContext;
    const d = new BehaviourDetector(ctx, JSON.parse(JSON.stringify(model)));
    for (const e of traffic(true)) d.onEvent(e);
    d.finish();
    const hit = found.find((f) => f.actors[0]!.value === '203.0.113.5');
    expect(hit).toBeDefined();
    expect(hit?.evidence[0]?.feature).toMatch(/^iforest\./);
    expect(hit?.explanation).toMatch(/rarer than 99\.9% of the training windows/);
    expect(hit?.evidence.every((x) => x.source === 'model')).toBe(true);
    // Ordinary windows stay below the line (a few at most, by construction of the 99.9th percentile).
    expect(found.filter((f) => f.actors[0]!.value !== '203.0.113.5').length).toBeLessThanOrEqual(10);
  });

  it('gives no model for too little traffic', () => {
    const t = new BehaviourTrainer();
    for (let i = 0; i < 50; i++) t.windows.add(ev(i * 1000, '10.0.0.1'));
    expect(t.build()).toBeNull();
  });
});
