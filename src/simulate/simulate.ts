/**
 * `apiwarden simulate`: builds the site, its population and the selected campaigns, runs the engine and
 * writes the same requests in every chosen format, with the route table, the labels and a summary.
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { ATTACKS, type AttackType, type CampaignPlan, planCampaigns, scheduleCampaign } from './attacks.js';
import {
  FLASH_SALE_MINUTES,
  Population,
  STAFF_IPS,
  scheduleCrawlers,
  scheduleFlashSale,
  scheduleMonitors,
  schedulePartners,
  scheduleStaff,
} from './benign.js';
import { ActorSet, type ForgeKind, Sim, type SimRequest } from './engine.js';
import { type RenderFormat, render } from './render.js';
import { Shop } from './shop.js';
import { ROUTE_NAMES, ROUTES, routeTable, Site } from './site.js';
import { PAYMENT_PROVIDER_IPS } from './vocab.js';

const HOUR = 3_600_000;

export const DEFAULT_START = Date.UTC(2026, 2, 2, 0, 0, 0);

export interface SimulateOptions {
  seed: number;
  /** First instant of the simulated period (ms, UTC). */
  start: number;
  hours: number;
  /** Registered customers (guests are half as many again). */
  users: number;
  /** Products in the catalog (default 4,000). */
  products?: number;
  attacks: readonly AttackType[];
  /** Multiplies each campaign's size. */
  attackScale: number;
  /** Hours of attack-free traffic at the start (baselines); default min(6, hours / 4). */
  warmupHours?: number;
  /**
   * Seed of the campaigns (their plan, actors and requests); default `seed`. The site, its customers,
   * partners and benign traffic follow `seed` alone, so stretches of one world (same seed, consecutive time
   * windows) can carry different attacks (the live demo, src/simulate/world.ts).
   */
  campaignSeed?: number;
  /**
   * The flash sale: `auto` (default) at 20:00 on the first evening after the warm-up, else 60% into the
   * run; `evening` only when a 20:00 falls in the run (a daily event of a continuing world); `none`.
   */
  flashSale?: 'auto' | 'evening' | 'none';
  /** The 8-minute upstream incident (elevated 5xx) 35% into the post-warm-up window (default true). */
  upstreamIncident?: boolean;
}

export interface BenignGroup {
  id: string;
  description: string;
  /** Planned window, when the group is an event (flash sale, incident). */
  start?: number;
  end?: number;
}

/** A simulation ready to run: `run()` yields requests in time order, then `labels()` tells what they were. */
export class Simulation {
  readonly sim: Sim;
  readonly site: Site;
  readonly shop: Shop;
  readonly population: Population;
  readonly plans: CampaignPlan[];
  readonly warmupEnd: number;
  /** The flash sale, when the run has one. */
  readonly flashSale: { at: number; products: number[] } | null;
  readonly benign: BenignGroup[];
  readonly sessions: number;
  private readonly forged: { line: number; campaign: string | null; kind: ForgeKind }[] = [];
  private emitted = 0;
  /** Requests of the benign groups defined by a time window or an address pool rather than by actors. */
  private readonly windowed = { incident: new ActorSet(), nat: new ActorSet() };

  constructor(readonly options: SimulateOptions) {
    const o = options;
    const start = o.start;
    const end = start + o.hours * HOUR;
    const warmup = o.warmupHours ?? Math.min(6, o.hours / 4);
    this.warmupEnd = start + warmup * HOUR;
    this.sim = new Sim(start, end);
    this.site = new Site({ seed: o.seed, users: o.users, products: o.products ?? 4_000 });
    this.shop = new Shop(this.site);
    this.population = new Population(this.shop, { seed: o.seed, start, end, users: o.users });
    this.sessions = this.population.schedule(this.sim, { seed: o.seed, start, end, users: o.users });
    scheduleStaff(this.sim, this.shop, o.seed, start, end);
    schedulePartners(this.sim, this.shop, o.seed, start);
    scheduleCrawlers(this.sim, this.shop, o.seed, start);
    scheduleMonitors(this.sim, this.shop, o.seed, start);

    // The flash sale opens at 20:00 on the first evening after the warm-up, else 60% into the run.
    const window = end - this.warmupEnd;
    let at = Math.floor(this.warmupEnd / (24 * HOUR)) * 24 * HOUR + 20 * HOUR;
    if (at < this.warmupEnd) at += 24 * HOUR;
    const sale = o.flashSale ?? 'auto';
    if (at > end - 20 * 60_000) at = sale === 'auto' ? this.warmupEnd + window * 0.6 : Number.NaN;
    this.flashSale =
      sale === 'none' || Number.isNaN(at)
        ? null
        : { at, products: scheduleFlashSale(this.sim, this.shop, this.population, o.seed, at) };
    // A short upstream incident: 8 minutes of elevated 5xx, benign.
    const incStart = this.warmupEnd + window * 0.35;
    if (o.upstreamIncident !== false)
      this.sim.incidents.push({ start: incStart, end: incStart + 8 * 60_000, errorRate: 0.06 });

    const campaignSeed = o.campaignSeed ?? o.seed;
    this.plans = planCampaigns(o.attacks, campaignSeed, this.warmupEnd, end);
    for (const p of this.plans) scheduleCampaign(this.sim, this.shop, campaignSeed, p, o.attackScale);

    const fs = this.flashSale;
    this.benign = [
      ...(fs === null
        ? []
        : [
            {
              id: 'flash_sale',
              description: `a flash sale on products ${fs.products.join(', ')}: ~15% of customers within ${FLASH_SALE_MINUTES} minutes`,
              start: fs.at - 120_000,
              end: fs.at + FLASH_SALE_MINUTES * 60_000,
            },
          ]),
      {
        id: 'staff',
        description: "support staff reading many customers' profiles in office hours (weekdays 09:00-18:00)",
      },
      {
        id: 'partners',
        description: 'partner integrations with API keys: steady polling and hourly id sweeps',
      },
      {
        id: 'googlebot',
        description: "Googlebot from Google's published ranges, walking product pages in order",
      },
      { id: 'bingbot', description: "Bingbot from Microsoft's published ranges" },
      { id: 'monitors', description: 'health probes and metrics scrapes from inside the cluster' },
      { id: 'payment_provider', description: 'payment provider callbacks after each payment' },
      ...(o.upstreamIncident === false
        ? []
        : [
            {
              id: 'upstream_incident',
              description: 'an 8-minute upstream incident: about 6% of API requests fail with 5xx',
              start: incStart,
              end: incStart + 8 * 60_000,
            },
          ]),
    ];
  }

  get end(): number {
    return this.sim.end;
  }

  /** Batches of requests in time order; each request's `index` is its 0-based position. */
  *run(batch = 4096): Generator<SimRequest[]> {
    const inc = this.sim.incidents[0] ?? { start: 0, end: 0 };
    const nat = new Set(this.population.natIps);
    for (const b of this.sim.run(batch)) {
      for (const r of b) {
        if (r.forged !== null) this.forged.push({ line: r.index + 1, campaign: r.campaign, kind: r.forged });
        if (r.ts >= inc.start && r.ts < inc.end) this.windowed.incident.add(r, null, null);
        if (nat.has(r.ip)) this.windowed.nat.add(r, null, null);
      }
      this.emitted += b.length;
      yield b;
    }
  }

  /** The ground truth of everything run so far (call after `run()` is exhausted). */
  labels(): Labels {
    const iso = (ms: number) => new Date(ms).toISOString();
    const actors = (s: ActorSet | undefined) => ({
      ips: s === undefined ? [] : [...s.ips].sort(),
      tokens: s === undefined ? [] : [...s.tokens].sort(),
      users: s === undefined ? [] : [...s.users].sort(),
      devices: s === undefined ? [] : [...s.devices].sort(),
    });
    const seen = (s: ActorSet | undefined) =>
      s === undefined || s.requests === 0
        ? { requests: 0, firstSeen: null, lastSeen: null, firstLine: null, lastLine: null, statuses: {} }
        : {
            requests: s.requests,
            firstSeen: iso(s.first),
            lastSeen: iso(s.last),
            firstLine: s.firstLine + 1,
            lastLine: s.lastLine + 1,
            statuses: s.statuses,
          };
    const forgedBy = (id: string) => {
      const out: Record<string, number> = {};
      for (const f of this.forged) if (f.campaign === id) out[f.kind] = (out[f.kind] ?? 0) + 1;
      return out;
    };
    return {
      version: 1,
      seed: this.options.seed,
      start: iso(this.sim.start),
      end: iso(this.sim.end),
      warmupEnd: iso(this.warmupEnd),
      requests: this.emitted,
      campaigns: this.plans.map((p) => {
        const s = this.sim.campaigns.get(p.id);
        return {
          id: p.id,
          description: p.description,
          start: iso(p.start),
          end: iso(p.end),
          ...seen(s),
          actors: actors(s),
          forged: forgedBy(p.id),
        };
      }),
      benign: this.benign
        .map((g) => {
          const incident = g.id === 'upstream_incident';
          const s = incident ? this.windowed.incident : this.sim.events.get(g.id);
          // The incident's requests are everyone's: its actors are not listed.
          const a = actors(incident ? undefined : s);
          if (g.id === 'staff') a.ips = [...STAFF_IPS];
          if (g.id === 'payment_provider') a.ips = [...PAYMENT_PROVIDER_IPS];
          return {
            id: g.id,
            description: g.description,
            start: g.start === undefined ? null : iso(g.start),
            end: g.end === undefined ? null : iso(g.end),
            ...seen(s),
            actors: a,
          };
        })
        .concat([
          {
            id: 'carrier_nat',
            description: 'carrier-grade NAT exits shared by about a quarter of mobile customers',
            start: null,
            end: null,
            ...seen(this.windowed.nat),
            actors: { ips: [...this.population.natIps].sort(), tokens: [], users: [], devices: [] },
          },
        ]),
      forged: this.forged,
    };
  }
}

export interface LabelActors {
  ips: string[];
  /** Token ids as apiwarden computes them: the first 16 hex of SHA-256 of the credential. */
  tokens: string[];
  users: string[];
  devices: string[];
}

export interface LabelSeen {
  requests: number;
  firstSeen: string | null;
  lastSeen: string | null;
  /** 1-based lines (the same in every output file). */
  firstLine: number | null;
  lastLine: number | null;
  statuses: Record<string, number>;
}

export interface Labels {
  version: 1;
  seed: number;
  start: string;
  end: string;
  warmupEnd: string;
  requests: number;
  campaigns: (LabelSeen & {
    id: string;
    description: string;
    start: string;
    end: string;
    actors: LabelActors;
    forged: Record<string, number>;
  })[];
  benign: (LabelSeen & {
    id: string;
    description: string;
    start: string | null;
    end: string | null;
    actors: LabelActors;
  })[];
  forged: { line: number; campaign: string | null; kind: ForgeKind }[];
}

// ------------------------------------------------------------------------------------------------------------
// Files

export const FILE_NAMES: Record<RenderFormat, string> = {
  combined: 'access.log',
  apisix: 'apisix.jsonl',
  kong: 'kong.jsonl',
  envoy: 'envoy.jsonl',
  traefik: 'traefik.jsonl',
  cloudflare: 'cloudflare.jsonl',
  alb: 'alb.log',
};

class Output {
  readonly stream: Writable;
  private readonly file: Writable;
  readonly closed: Promise<unknown>;
  bytes = 0;
  constructor(
    readonly path: string,
    gzip: boolean,
  ) {
    this.file = createWriteStream(path);
    this.closed = once(this.file, 'close');
    if (gzip) {
      const gz = createGzip({ level: 6 });
      gz.pipe(this.file);
      this.stream = gz;
    } else {
      this.stream = this.file;
    }
  }
  async write(text: string): Promise<void> {
    this.bytes += Buffer.byteLength(text);
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
  async end(): Promise<void> {
    this.stream.end();
    await this.closed;
  }
}

export interface WriteOptions {
  dir: string;
  formats: readonly RenderFormat[];
  gzip: boolean;
  /** Called after each batch with the requests so far and the simulated time reached. */
  onProgress?: (requests: number, simTime: number) => void;
}

export interface SimulationSummary {
  seed: number;
  start: string;
  end: string;
  hours: number;
  users: number;
  requests: number;
  sessions: number;
  byKind: Record<string, number>;
  byCampaign: Record<string, number>;
  byStatusClass: Record<string, number>;
  byRoute: Record<string, number>;
  attackShare: number;
  forged: number;
  files: Record<string, { path: string; bytes: number }>;
  seconds: number;
  requestsPerSec: number;
}

const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Runs `simulation` and writes every output file into `dir`. */
export async function writeSimulation(simulation: Simulation, w: WriteOptions): Promise<SimulationSummary> {
  const t0 = performance.now();
  mkdirSync(w.dir, { recursive: true });
  const gz = w.gzip ? '.gz' : '';
  const outs = w.formats.map((f) => new Output(join(w.dir, FILE_NAMES[f] + gz), w.gzip));
  const truth = new Output(join(w.dir, `truth.csv${gz}`), w.gzip);
  await truth.write('line,time,kind,actor,campaign,event,forged,route\n');
  const templates = ROUTE_NAMES.map((n) => `${ROUTES[n].method} ${ROUTES[n].template}`);
  const byKind: Record<string, number> = {};
  const byCampaign: Record<string, number> = {};
  const byStatusClass: Record<string, number> = {};
  const byRoute: Record<string, number> = {};
  let requests = 0;
  let attack = 0;
  let forged = 0;
  for (const batch of simulation.run()) {
    for (let k = 0; k < w.formats.length; k++) {
      const f = w.formats[k]!;
      let text = '';
      for (const r of batch) text += `${render(f, r, r.index + 1, true)}\n`;
      await outs[k]!.write(text);
    }
    let t = '';
    for (const r of batch) {
      const route = r.route < 0 ? '' : templates[r.route]!;
      t += `${r.index + 1},${r.ts},${r.kind},${csvField(r.actor)},${r.campaign ?? ''},${r.event ?? ''},${r.forged ?? ''},${route}\n`;
      byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
      if (r.campaign !== null) {
        byCampaign[r.campaign] = (byCampaign[r.campaign] ?? 0) + 1;
        attack++;
      }
      if (r.forged !== null) forged++;
      const sc = `${Math.floor(r.status / 100)}xx`;
      byStatusClass[sc] = (byStatusClass[sc] ?? 0) + 1;
      const key = route === '' ? '(no route)' : route;
      byRoute[key] = (byRoute[key] ?? 0) + 1;
    }
    await truth.write(t);
    requests += batch.length;
    w.onProgress?.(requests, batch[batch.length - 1]!.ts);
  }
  for (const o of outs) await o.end();
  await truth.end();
  const labels = simulation.labels();
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(w.dir, 'labels.json'), `${JSON.stringify(labels, null, 2)}\n`);
  await writeFile(join(w.dir, 'routes.json'), `${JSON.stringify(routeTable(), null, 2)}\n`);
  const seconds = (performance.now() - t0) / 1000;
  const o = simulation.options;
  const files: Record<string, { path: string; bytes: number }> = {};
  w.formats.forEach((f, k) => {
    files[f] = { path: outs[k]!.path, bytes: outs[k]!.bytes };
  });
  const summary: SimulationSummary = {
    seed: o.seed,
    start: labels.start,
    end: labels.end,
    hours: o.hours,
    users: o.users,
    requests,
    sessions: simulation.sessions,
    byKind,
    byCampaign,
    byStatusClass,
    byRoute,
    attackShare: requests === 0 ? 0 : attack / requests,
    forged,
    files,
    seconds: Math.round(seconds * 1000) / 1000,
    requestsPerSec: Math.round(requests / Math.max(seconds, 1e-9)),
  };
  await writeFile(join(w.dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

export { ATTACKS };
