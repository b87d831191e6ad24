/**
 * The live demo's world: one population cut into consecutive stretches with their own campaigns. Benign
 * traffic follows the world's seed alone (a campaign seed moves no benign request), stretches tile time
 * without overlap, the first carries every attack type, later ones a seeded mix, and the same customers
 * appear in the history and in the stretches.
 */
import { describe, expect, it } from 'vitest';
import { ATTACK_TYPES } from './attacks.js';
import type { SimRequest } from './engine.js';
import { DEFAULT_START, type SimulateOptions, Simulation } from './simulate.js';
import { SimulatedWorld, stretchSeed } from './world.js';

const HOUR = 3_600_000;
const BASE: SimulateOptions = {
  seed: 5,
  start: DEFAULT_START + 12 * HOUR,
  hours: 2,
  users: 400,
  attacks: ATTACK_TYPES,
  attackScale: 0.3,
  warmupHours: 0.1,
};

function all(sim: Simulation): SimRequest[] {
  const out: SimRequest[] = [];
  for (const b of sim.run()) for (const r of b) out.push(r);
  return out;
}

const key = (r: SimRequest) => `${r.ts}|${r.actor}|${r.method} ${r.target}|${r.status}`;

describe('Simulation options for a continuing world', () => {
  it('campaignSeed changes the campaigns and leaves every benign request as it was', () => {
    const a = all(new Simulation(BASE));
    const b = all(new Simulation({ ...BASE, campaignSeed: 99 }));
    const benign = (rs: SimRequest[]) => rs.filter((r) => r.campaign === null).map(key);
    expect(benign(b)).toEqual(benign(a));
    const attack = (rs: SimRequest[]) => rs.filter((r) => r.campaign !== null).map(key);
    expect(attack(a).length).toBeGreaterThan(100);
    expect(attack(b)).not.toEqual(attack(a));
  });

  it('leaves out the flash sale and the upstream incident when asked, in the traffic and the labels', () => {
    const sim = new Simulation({ ...BASE, flashSale: 'none', upstreamIncident: false });
    const reqs = all(sim);
    const labels = sim.labels();
    expect(sim.flashSale).toBeNull();
    expect(labels.benign.map((g) => g.id)).not.toContain('flash_sale');
    expect(labels.benign.map((g) => g.id)).not.toContain('upstream_incident');
    expect(reqs.some((r) => r.event === 'flash_sale')).toBe(false);
    // 'evening': only when a 20:00 falls inside the run (12:00-14:00 holds none, 19:00-21:00 does).
    expect(new Simulation({ ...BASE, flashSale: 'evening' }).flashSale).toBeNull();
    const evening = new Simulation({ ...BASE, start: DEFAULT_START + 19 * HOUR, flashSale: 'evening' });
    expect(evening.flashSale?.at).toBe(DEFAULT_START + 20 * HOUR);
    const auto = new Simulation(BASE);
    expect(auto.flashSale).not.toBeNull();
    expect(auto.labels().benign.map((g) => g.id)).toContain('upstream_incident');
  });
});

describe('SimulatedWorld', () => {
  const world = new SimulatedWorld({
    seed: 5,
    users: 400,
    liveStart: DEFAULT_START + 14 * HOUR,
    stretchMs: HOUR,
  });

  it('plans stretches that tile time, every attack type first, then a seeded mix', () => {
    const plans = Array.from({ length: 12 }, (_, k) => world.plan(k));
    expect(plans[0]!.attacks).toEqual([...ATTACK_TYPES]);
    expect(plans[0]!.attackScale).toBe(1);
    for (let k = 1; k < plans.length; k++) {
      const p = plans[k]!;
      expect(p.start).toBe(plans[k - 1]!.end);
      expect(p.attacks.length).toBeGreaterThanOrEqual(3);
      expect(p.attacks.length).toBeLessThanOrEqual(7);
      expect(p.attackScale).toBeGreaterThanOrEqual(0.5);
      expect(p.attackScale).toBeLessThanOrEqual(1.5);
      expect(p.campaignSeed).not.toBe(5);
    }
    expect(new Set(plans.slice(1).map((p) => p.attacks.join(','))).size).toBeGreaterThan(3);
    expect(world.plan(7)).toEqual(plans[7]);
    expect(stretchSeed(5, 1)).not.toBe(stretchSeed(5, 2));
    expect(stretchSeed(5, 1)).not.toBe(stretchSeed(6, 1));
  });

  it('keeps time moving across stretches, the history before them attack-free, with the same customers', () => {
    const history = all(world.history(2));
    const s0 = all(world.stretch(0).simulation);
    const s1 = all(world.stretch(1).simulation);
    expect(history.every((r) => r.campaign === null)).toBe(true);
    expect(history[history.length - 1]!.ts).toBeLessThan(DEFAULT_START + 14 * HOUR);
    expect(s0[0]!.ts).toBeGreaterThanOrEqual(DEFAULT_START + 14 * HOUR);
    expect(s0[s0.length - 1]!.ts).toBeLessThan(s1[0]!.ts);
    expect(s1[s1.length - 1]!.ts).toBeLessThan(DEFAULT_START + 16 * HOUR);
    expect(new Set(s0.filter((r) => r.campaign !== null).map((r) => r.campaign)).size).toBe(
      ATTACK_TYPES.length,
    );
    // Customers are the same people: a stretch's customers (name and address) are found in the history of
    // the same world, and not in another world's.
    const customers = (rs: SimRequest[]) =>
      new Set(rs.filter((r) => r.kind === 'browser' || r.kind === 'mobile').map((r) => `${r.actor}|${r.ip}`));
    const during = [...customers(s1)];
    expect(during.length).toBeGreaterThan(20);
    const same = customers(history);
    const other = customers(all(new SimulatedWorld({ ...world.o, seed: 6 }).history(2)));
    const inSame = during.filter((a) => same.has(a)).length;
    expect(inSame).toBeGreaterThan(0);
    expect(during.filter((a) => other.has(a)).length).toBe(0);
  });
});
