/**
 * A continuing simulated world for the live demo: one site and one population (one seed), cut into
 * consecutive time windows. The history before the demo's start is attack-free (what the profile is learned
 * from); every stretch after it carries its own campaigns (seeded per stretch), so each stretch of the live
 * replay looks different while customers, partners, staff and bots stay the same people with the same
 * addresses, keys and habits (a profile learned from the history still knows them).
 *
 * Time only moves forward: stretch k covers [liveStart + k·stretch, liveStart + (k+1)·stretch). A customer
 * session that starts in one stretch and would run into the next is cut at the boundary (each stretch is its
 * own engine run); at the demo's sizes that is a few dozen requests an hour.
 */
import { ATTACK_TYPES, type AttackType } from './attacks.js';
import { Rng } from './random.js';
import { Simulation } from './simulate.js';

const HOUR = 3_600_000;

export interface WorldOptions {
  /** The world's seed: site, customers, partners, benign traffic. */
  seed: number;
  /** Registered customers (guests are half as many again). */
  users: number;
  /** Where the live part begins (ms, UTC); the history ends here. */
  liveStart: number;
  /** Simulated length of one live stretch (ms). */
  stretchMs: number;
  /** Products in the catalog (default 4,000). */
  products?: number;
}

export interface StretchPlan {
  index: number;
  start: number;
  end: number;
  campaignSeed: number;
  attacks: AttackType[];
  attackScale: number;
  upstreamIncident: boolean;
}

/** A mixed 32-bit seed from the world's seed and a stretch number (never the world's seed itself). */
export function stretchSeed(seed: number, index: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

export class SimulatedWorld {
  constructor(readonly o: WorldOptions) {
    if (!(o.stretchMs >= 60_000)) throw new Error('a stretch must be at least a minute long');
  }

  /** The attack-free history of `hours` before the live start. */
  history(hours: number): Simulation {
    return new Simulation({
      seed: this.o.seed,
      start: this.o.liveStart - hours * HOUR,
      hours,
      users: this.o.users,
      ...(this.o.products === undefined ? {} : { products: this.o.products }),
      attacks: [],
      attackScale: 1,
      warmupHours: 0,
      flashSale: 'evening',
      upstreamIncident: false,
    });
  }

  /**
   * What stretch `index` carries. The first has every campaign type (the demo shows each at least once);
   * later ones a seeded selection of three to seven types at 0.5x to 1.5x their size, with an upstream
   * incident now and then.
   */
  plan(index: number): StretchPlan {
    const start = this.o.liveStart + index * this.o.stretchMs;
    const campaignSeed = stretchSeed(this.o.seed, index);
    const r = new Rng(campaignSeed).derive('stretch');
    let attacks: AttackType[];
    let attackScale = 1;
    if (index === 0) attacks = [...ATTACK_TYPES];
    else {
      const n = r.int(3, 7);
      const pool: AttackType[] = [...ATTACK_TYPES];
      attacks = [];
      for (let k = 0; k < n; k++) attacks.push(pool.splice(r.int(0, pool.length - 1), 1)[0]!);
      attacks = ATTACK_TYPES.filter((t) => attacks.includes(t));
      attackScale = Math.round(r.uniform(0.5, 1.5) * 100) / 100;
    }
    return {
      index,
      start,
      end: start + this.o.stretchMs,
      campaignSeed,
      attacks,
      attackScale,
      upstreamIncident: index > 0 && r.chance(0.3),
    };
  }

  /** The simulation of stretch `index` (campaigns start a minute in: no warm-up is needed live). */
  stretch(index: number): { plan: StretchPlan; simulation: Simulation } {
    const p = this.plan(index);
    const simulation = new Simulation({
      seed: this.o.seed,
      campaignSeed: p.campaignSeed,
      start: p.start,
      hours: this.o.stretchMs / HOUR,
      users: this.o.users,
      ...(this.o.products === undefined ? {} : { products: this.o.products }),
      attacks: p.attacks,
      attackScale: p.attackScale,
      warmupHours: Math.min(1 / 60, this.o.stretchMs / HOUR / 10),
      flashSale: 'evening',
      upstreamIncident: p.upstreamIncident,
    });
    return { plan: p, simulation };
  }
}
