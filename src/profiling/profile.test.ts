import { describe, expect, it } from 'vitest';
import type { Signal } from '../detect/features.js';
import { KEY_SEP, type Snapshot } from '../features/stream.js';
import { ProfileBuilder, readProfile, thresholdFor } from './profile.js';

const HOUR = 3_600_000;
const rate: Signal = {
  feature: 'rpm_by_ip_endpoint',
  actor: 'ip',
  perEndpoint: true,
  type: 'by_scenario',
  unit: 'req/min',
  minEvents: 1,
};
const snap = (key: string, hour: number, value: number): Snapshot => ({
  feature: 'rpm_by_ip_endpoint',
  key,
  windowStart: hour * HOUR,
  windowEnd: hour * HOUR + 60_000,
  events: value,
  value,
});

describe('ProfileBuilder', () => {
  const scenarioOf = (ep: string) => (ep.includes('login') ? 'authentication' : 'listing');

  it('learns the edge of normal per endpoint, keeps the seed threshold, and borrows for a quiet endpoint', () => {
    const b = new ProfileBuilder([rate], scenarioOf);
    for (let h = 0; h < 6; h++) {
      for (let a = 0; a < 50; a++) b.add(snap(`10.0.0.${a}${KEY_SEP}POST /login`, h, 1 + (a % 3)));
      if (h === 2) b.add(snap(`203.0.113.9${KEY_SEP}POST /login`, h, 900)); // a burst: an outlier
      b.add(snap(`10.0.1.1${KEY_SEP}POST /rare-login`, h, 1)); // one client: too little to learn from
    }
    const p = b.build();
    const login = p.features.rpm_by_ip_endpoint!.endpoints['POST /login']!;
    expect(login.threshold).toBe(3);
    expect(login.seedThreshold).toBe(900);
    expect(login.periods).toBe(6);
    expect(login.confidence).toBeGreaterThan(0.8);
    const rare = thresholdFor(p, 'rpm_by_ip_endpoint', 'POST /rare-login', 'authentication')!;
    expect(rare.borrowedFrom).toBe('scenario:authentication');
  });

  it('marks an actor over the line in most periods as habitual, with its own usual peak', () => {
    const b = new ProfileBuilder([rate], scenarioOf);
    for (let h = 0; h < 8; h++) {
      for (let a = 0; a < 40; a++) b.add(snap(`10.0.0.${a}${KEY_SEP}GET /items`, h, 1 + (a % 2)));
      b.add(snap(`198.51.100.7${KEY_SEP}GET /items`, h, 60)); // a partner's sweep, every hour
    }
    const p = b.build();
    expect(p.habitual.rpm_by_ip_endpoint).toEqual({ '198.51.100.7': 60 });
  });

  it('round-trips through readProfile and refuses other files with the reason', () => {
    const b = new ProfileBuilder([rate], scenarioOf);
    for (let a = 0; a < 40; a++) b.add(snap(`10.0.0.${a}${KEY_SEP}GET /x`, 0, 1));
    const p = b.build();
    const r = readProfile(JSON.stringify(p));
    expect(r.ok && r.value).toEqual(p);
    expect(readProfile('{')).toMatchObject({ ok: false, error: expect.stringMatching(/not JSON/) });
    expect(readProfile('{"kind":"x"}')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not an apiwarden profile/),
    });
    expect(readProfile(JSON.stringify({ ...p, version: 99 }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/version 99/),
    });
    const bad = JSON.parse(JSON.stringify(p));
    bad.features.rpm_by_ip_endpoint.endpoints['GET /x'].threshold = 'high';
    expect(readProfile(JSON.stringify(bad))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/threshold must be a number/),
    });
  });
});
