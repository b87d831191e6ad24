/**
 * One keyed partition of the detect stage: it merges the events of the input partitions in event-time order
 * (a k-way merge gated by the routers' watermarks), runs detection for the actors this partition owns (and
 * the population detector on the partition that owns it), and cuts the stream into segments.
 *
 * Why a merge: the keyed partition receives events from every input partition, interleaved as the routers
 * happened to produce them. A single process (`apiwarden analyze`) reads them in time order; so does this
 * partition: an event is released only when no input partition can still send an earlier one (its queue has
 * one, or its watermark has passed, or it is idle or ended). Ties in time: lower input partition first.
 *
 * Segments: a DetectionRun hands out its alerts when it finishes. A segment ends when the merged event time
 * passes the segment's end (`segmentMs`, event time) or when every input partition has sent the end marker
 * of a stretch. Its alerts, with the link facts of the owned actors, become a SegmentReport.
 *
 * Replays: the stage commits the keyed offset of the first record the finished segment did not use, and
 * checkpoints the highest input offset used per input partition (`maxRaw`); records replayed after a crash
 * or a rebalance that were already used (or that a router produced twice) are dropped by that offset.
 */
import type { ApiEvent } from '../core/event.js';
import type { ParamScorer } from '../detect/params.js';
import { type DetectionOptions, DetectionRun } from '../detect/run.js';
import type { ActorRef, Alert } from '../detect/types.js';
import { Enricher } from '../features/enrich.js';
import type { Profile } from '../profiling/profile.js';
import type { SensitiveScanner } from '../sensitive/scanner.js';
import { END, type KeyedRecord, ownerOf, populationOwner } from './topology.js';

/** What a partition keeps across a crash (in the checkpoint table, with the committed offset). */
export interface PartitionCheckpoint {
  /** The keyed offset to resume from. */
  next: number;
  /** Per input partition, the highest input offset already used. */
  maxRaw: Record<string, number>;
  /** Per input partition, its last watermark. */
  wm: Record<string, number>;
  /** The start of the open segment (event time), or null. */
  segStart: number | null;
}

export interface FinishedSegment {
  seg: string;
  through: number;
  alerts: Alert[];
  links: [ActorRef, ActorRef][];
  scenarios: Record<string, string>;
  events: number;
  /** The checkpoint to store once the report is durable. */
  checkpoint: PartitionCheckpoint;
}

export interface PartitionOptions {
  partition: number;
  partitions: number;
  profile: Profile;
  detection: DetectionOptions;
  scorer: ParamScorer | null;
  scanner: SensitiveScanner | null;
  /** Segment length in event time; 0: segments end only at end markers. */
  segmentMs: number;
}

interface Queued {
  ts: number;
  o: number;
  keyed: number;
  ev: ApiEvent;
}

/** A FIFO of queued events (an array with a moving head). */
class Queue {
  items: Queued[] = [];
  head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  peek(): Queued | undefined {
    return this.items[this.head];
  }
  shift(): Queued {
    const q = this.items[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return q;
  }
  push(q: Queued): void {
    this.items.push(q);
  }
}

export interface PartitionStats {
  events: number;
  duplicates: number;
  segments: number;
  queued: number;
}

export class PartitionState {
  private readonly queues = new Map<number, Queue>();
  private readonly wm = new Map<number, number>();
  private readonly idle = new Set<number>();
  private readonly ended = new Map<number, string>();
  private readonly maxRaw = new Map<number, number>();
  private R = 0;
  /** Keyed offset after the last record read. */
  private nextKeyed = 0;
  private segStart: number | null = null;
  /** The end of the last segment reported (event time). */
  private lastThrough = Number.NEGATIVE_INFINITY;
  private readonly enricher: Enricher;
  private actors: DetectionRun;
  private population: DetectionRun | null;
  /** Actors owned here that were seen in the open segment (their links go into the report). */
  private owned: ActorRef[] = [];
  private ownedSeen = new Set<string>();
  private segEvents = 0;
  readonly stats: PartitionStats = { events: 0, duplicates: 0, segments: 0, queued: 0 };
  readonly isPopulationOwner: boolean;

  constructor(
    private readonly o: PartitionOptions,
    restored: PartitionCheckpoint | null = null,
  ) {
    this.isPopulationOwner = populationOwner(o.partitions) === o.partition;
    this.enricher = new Enricher(o.scanner);
    this.actors = this.newRun('actors');
    this.population = this.isPopulationOwner ? this.newRun('population') : null;
    if (restored !== null) {
      this.nextKeyed = restored.next;
      for (const [r, v] of Object.entries(restored.maxRaw)) this.maxRaw.set(Number(r), v);
      for (const [r, v] of Object.entries(restored.wm)) this.wm.set(Number(r), v);
      this.segStart = restored.segStart;
    }
  }

  /** The keyed offset to resume from when nothing is stored (first use of a partition). */
  get resumeFrom(): number {
    return this.nextKeyed;
  }

  private newRun(which: 'actors' | 'population'): DetectionRun {
    return new DetectionRun(this.o.profile, { ...this.o.detection, detectors: which });
  }

  private queue(r: number): Queue {
    let q = this.queues.get(r);
    if (q === undefined) {
      q = new Queue();
      this.queues.set(r, q);
    }
    return q;
  }

  /**
   * One record of this keyed partition at `offset`; returns the segments it finished (usually none).
   * Records before the resume offset (already used by a finished segment) are ignored.
   */
  accept(rec: KeyedRecord, offset: number): FinishedSegment[] {
    if (offset < this.nextKeyed) return [];
    this.nextKeyed = offset + 1;
    if (rec.R > this.R) this.R = rec.R;
    const r = rec.r;
    switch (rec.k) {
      case 'e': {
        // Queued events of r are in input order: a record not above the last one queued (or used) is a copy.
        const q = this.queues.get(r);
        const last =
          q !== undefined && q.size > 0 ? q.items[q.items.length - 1]!.o : (this.maxRaw.get(r) ?? -1);
        if (rec.o <= last) {
          this.stats.duplicates++;
          return [];
        }
        this.idle.delete(r);
        this.ended.delete(r);
        this.queue(r).push({ ts: rec.ts, o: rec.o, keyed: offset, ev: rec.ev });
        this.stats.queued++;
        break;
      }
      case 'w':
        if (rec.wm > (this.wm.get(r) ?? Number.NEGATIVE_INFINITY)) this.wm.set(r, rec.wm);
        this.idle.delete(r);
        break;
      case 'i':
        this.idle.add(r);
        break;
      case 'x':
        this.ended.set(r, rec.id);
        break;
    }
    return this.release();
  }

  /** Whether input partition r (with an empty queue) can still send an event that sorts before (ts, from). */
  private blocks(r: number, ts: number, from: number): boolean {
    if (this.ended.has(r) || this.idle.has(r)) return false;
    const w = this.wm.get(r);
    if (w === undefined) return true;
    return w < ts || (w === ts && r < from);
  }

  /** The merged watermark: no event earlier than this can still come. */
  private merged(): number {
    let m = Number.POSITIVE_INFINITY;
    for (let r = 0; r < this.R; r++) {
      const q = this.queues.get(r);
      const head = q?.peek();
      let v: number;
      if (head !== undefined) v = head.ts;
      else if (this.ended.has(r) || this.idle.has(r)) v = Number.POSITIVE_INFINITY;
      else v = this.wm.get(r) ?? Number.NEGATIVE_INFINITY;
      if (v < m) m = v;
    }
    return m;
  }

  private release(): FinishedSegment[] {
    const out: FinishedSegment[] = [];
    for (;;) {
      let best: Queued | undefined;
      let from = -1;
      for (let r = 0; r < this.R; r++) {
        const h = this.queues.get(r)?.peek();
        if (h !== undefined && (best === undefined || h.ts < best.ts)) {
          best = h;
          from = r;
        }
      }
      if (best === undefined) break;
      let blocked = false;
      for (let r = 0; r < this.R && !blocked; r++)
        if (r !== from && (this.queues.get(r)?.size ?? 0) === 0 && this.blocks(r, best.ts, from))
          blocked = true;
      if (blocked) break;
      // The event belongs to a later segment: the open one ends first.
      if (this.o.segmentMs > 0 && this.segStart !== null && best.ts >= this.segStart + this.o.segmentMs)
        out.push(this.finish(false, null));
      this.queues.get(from)!.shift();
      this.stats.queued--;
      this.use(from, best);
    }
    const m = this.merged();
    if (this.o.segmentMs > 0 && Number.isFinite(m)) {
      if (this.segStart !== null && m >= this.segStart + this.o.segmentMs) out.push(this.finish(false, null));
      // Nothing here in the segments the merged time passed: say so, or the incident stage would wait for
      // this partition.
      const boundary = Math.floor(m / this.o.segmentMs) * this.o.segmentMs;
      if (this.segStart === null && boundary > this.lastThrough) out.push(this.progress(boundary));
    }
    // Every input partition ended its stretch (and nothing is queued): the stretch's segment ends.
    if (this.R > 0 && this.ended.size >= this.R && this.stats.queued === 0) {
      let id = '';
      for (let r = 0; r < this.R; r++) {
        const e = this.ended.get(r);
        if (e === undefined) return out;
        if (e > id) id = e;
      }
      out.push(this.finish(true, id));
      this.ended.clear();
    }
    return out;
  }

  private own(kind: ActorRef['kind'], value: string | null): void {
    if (value === null || ownerOf(kind, value, this.o.partitions) !== this.o.partition) return;
    const k = `${kind}\u001f${value}`;
    if (this.ownedSeen.has(k)) return;
    this.ownedSeen.add(k);
    this.owned.push({ kind, value });
  }

  private use(r: number, q: Queued): void {
    this.maxRaw.set(r, q.o);
    const e = q.ev;
    if (this.segStart === null)
      this.segStart = this.o.segmentMs > 0 ? Math.floor(q.ts / this.o.segmentMs) * this.o.segmentMs : q.ts;
    this.stats.events++;
    this.segEvents++;
    const fe = this.enricher.enrich(e);
    const forged = this.o.scorer === null ? undefined : this.o.scorer.score(e);
    const p = this.o.partition;
    const P = this.o.partitions;
    const mine =
      ownerOf('ip', e.ip, P) === p ||
      (e.token !== null && ownerOf('token', e.token, P) === p) ||
      (e.device !== null && ownerOf('device', e.device, P) === p) ||
      (e.user !== null && ownerOf('user', e.user, P) === p);
    if (mine) {
      this.actors.push(fe, forged);
      this.own('ip', e.ip);
      this.own('token', e.token);
      this.own('device', e.device);
    }
    this.population?.push(fe, forged);
  }

  /** The first keyed offset not used by a finished segment: the oldest queued record, or the next one. */
  private commitOffset(): number {
    let min = this.nextKeyed;
    for (const q of this.queues.values()) {
      const h = q.peek();
      if (h !== undefined && h.keyed < min) min = h.keyed;
    }
    return min;
  }

  /** An empty report: this partition has nothing before `through`. */
  private progress(through: number): FinishedSegment {
    this.lastThrough = through;
    return {
      seg: `t:${new Date(through - this.o.segmentMs).toISOString()}`,
      through,
      alerts: [],
      links: [],
      scenarios: {},
      events: 0,
      checkpoint: this.checkpoint(),
    };
  }

  private checkpoint(): PartitionCheckpoint {
    return {
      next: this.commitOffset(),
      maxRaw: Object.fromEntries(this.maxRaw),
      wm: Object.fromEntries(this.wm),
      segStart: null,
    };
  }

  private finish(atEnd: boolean, endId: string | null): FinishedSegment {
    const P = this.o.partitions;
    const p = this.o.partition;
    const start = this.segStart;
    const through = atEnd ? END : (start ?? 0) + this.o.segmentMs;
    const seg = atEnd ? `end:${endId}` : `t:${new Date(start ?? 0).toISOString()}`;
    const alerts = this.actors.finish().filter((a) => {
      const lead = a.actors[0]!;
      return ownerOf(lead.kind, lead.value, P) === p;
    });
    const links = this.actors.links(this.owned);
    const scenarios: Record<string, string> = {};
    const popAlerts = this.population?.finish() ?? [];
    for (const a of alerts) for (const ep of a.endpoints) scenarios[ep] = this.actors.ctx.scenarioOf(ep);
    for (const a of popAlerts)
      for (const ep of a.endpoints) scenarios[ep] = this.population!.ctx.scenarioOf(ep);
    // Population alerts list member addresses and the users they logged in as: the population run saw every
    // event, so its links of those addresses are complete; the incident stage takes links from owners only,
    // and the owners of the members report them too.
    const events = this.segEvents;
    this.stats.segments++;
    this.segEvents = 0;
    this.actors = this.newRun('actors');
    if (this.population !== null) this.population = this.newRun('population');
    this.owned = [];
    this.ownedSeen = new Set();
    this.segStart = null;
    if (!atEnd) this.lastThrough = through;
    const checkpoint = this.checkpoint();
    return { seg, through, alerts: [...alerts, ...popAlerts], links, scenarios, events, checkpoint };
  }
}
