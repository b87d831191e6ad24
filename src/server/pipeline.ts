/**
 * The default live pipeline behind `POST /api/v1/ingest`: an `EventSink` (the hook the server is built with,
 * so a Kafka-backed or multi-process pipeline can replace it) that runs the same detection code as
 * `apiwarden analyze`, in segments.
 *
 *   ApiEvent ─► Enricher ─► (ParamScorer) ─► DetectionRun(latest stored profile) ─► alerts
 *                                                   every segmentMs (or maxSegmentEvents): finish the run,
 *                                                   groupIncidents ─► onIncidents (Responder.ingest, SSE)
 *
 * Why segments: a DetectionRun hands out its alerts when it finishes (closing every window), and its actor
 * tables grow with the traffic it sees. Finishing it every few minutes and starting a fresh one keeps memory
 * bounded and incidents flowing; the price is that a behaviour spanning a segment boundary is judged in two
 * halves (a 5-minute segment cuts the detectors' 1- and 5-minute windows at most once each). Alert and
 * incident ids derive from what they are, and `Responder.ingest` is idempotent, so a behaviour reported by
 * two segments updates one incident rather than opening two when its first window is the same.
 *
 * Segments end on the wall clock (`segmentMs`), or on the event clock (`segmentEventMs`: when event time
 * crosses a multiple of it). Event-clock segments make a replay give the same incidents at any speed, and
 * when the length is a multiple of the detectors' windows (1, 5, 15 minutes) their boundaries fall between
 * windows rather than inside them. With an event clock the wall timer only ends a segment that has gone idle
 * (no events for a whole `segmentMs`), so the last events of a quiet stream are still judged.
 *
 * With an event store (`store`, serve's `--store`), every ingested event is also appended to it enriched
 * (judged or not, profile or not), and the store is flushed to Parquet at each segment end, so backtests and
 * `analyze --store` cover live traffic.
 *
 * Without a stored profile there is nothing to judge against: events are counted and dropped until a profile
 * is stored (PUT /api/v1/profile swaps it in, finishing the current segment with the old one first).
 */
import type { ApiEvent } from '../core/event.js';
import { groupIncidents, type Incident } from '../detect/incidents.js';
import { ParamProfile, ParamScorer, type Reason } from '../detect/params.js';
import { type DetectionOptions, DetectionRun } from '../detect/run.js';
import type { ActorRef, Alert } from '../detect/types.js';
import { Enricher, type FeatureEvent } from '../features/enrich.js';
import type { Profile } from '../profiling/profile.js';
import type { SensitiveScanner } from '../sensitive/scanner.js';
import type { EventSink } from '../sinks/types.js';
import type { EventStore } from '../store/events.js';

/** What the pipeline needs of a detection run (DetectionRun; a fake in tests). */
export interface LiveRun {
  push(e: FeatureEvent, forged?: { score: number; reasons: readonly Reason[] }): void;
  finish(): Alert[];
  links(actors: Iterable<ActorRef>): [ActorRef, ActorRef][];
  scenarioOf(endpoint: string): string;
}

export interface SegmentResult {
  events: number;
  alerts: Alert[];
  incidents: Incident[];
}

export interface PipelineStats {
  /** Whether a profile is loaded (detection on). */
  detecting: boolean;
  profileTs: number | null;
  eventsSeen: number;
  eventsJudged: number;
  segments: number;
  alerts: number;
  incidents: number;
  /** Events in the open segment. */
  segmentEvents: number;
  lastSegmentTs: number | null;
  /** Events appended to the event store (null: no store). */
  eventsStored: number | null;
}

export interface PipelineOptions {
  profile: Profile | null;
  /** When the profile was stored (for stats). */
  profileTs?: number | null;
  detection?: DetectionOptions;
  scanner?: SensitiveScanner | null;
  /** Called with each finished segment's incidents (when it found any). Errors are logged, not thrown. */
  onSegment: (r: SegmentResult) => Promise<void>;
  /**
   * Wall time between segment ends (default 5 min); with `segmentEventMs`, how long a segment may sit idle
   * (no events) before it is ended anyway.
   */
  segmentMs?: number;
  /** End segments on the event clock instead: when event time crosses a multiple of this (ms). */
  segmentEventMs?: number;
  /** Also append every event (enriched) to this store; flushed at each segment end, closed with the pipeline. */
  store?: EventStore | null;
  /** A segment ends early after this many events (default 1,000,000). */
  maxSegmentEvents?: number;
  /** Builds the run for a profile (default: a DetectionRun). */
  makeRun?: (profile: Profile, options: DetectionOptions) => LiveRun;
  log?: (msg: string) => void;
}

const defaultRun = (profile: Profile, options: DetectionOptions): LiveRun => {
  const run = new DetectionRun(profile, options);
  return {
    push: (e, forged) => run.push(e, forged),
    finish: () => run.finish(),
    links: (actors) => run.links(actors),
    scenarioOf: (endpoint) => run.ctx.scenarioOf(endpoint),
  };
};

export class DetectionPipeline implements EventSink {
  private readonly enricher: Enricher;
  private profile: Profile | null;
  private profileTs: number | null;
  private scorer: ParamScorer | null = null;
  private run: LiveRun | null = null;
  private segmentEvents = 0;
  private readonly timer: NodeJS.Timeout;
  /** Segment ends run one after another (their incidents reach the state in order). */
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly st = { eventsSeen: 0, eventsJudged: 0, segments: 0, alerts: 0, incidents: 0 };
  private lastSegmentTs: number | null = null;
  private readonly maxSegmentEvents: number;
  private readonly makeRun: NonNullable<PipelineOptions['makeRun']>;
  private readonly log: (msg: string) => void;
  private readonly segmentEventMs: number | null;
  /** Event time at which the open segment ends (event clock only; null before the first event). */
  private boundary: number | null = null;
  /** Events written since the wall timer last looked (event clock: idle detection). */
  private writesSinceTick = 0;
  private readonly store: EventStore | null;
  private eventsStored = 0;
  /** Enriched events waiting for the store (appended after each write). */
  private readonly pending: FeatureEvent[] = [];
  private storeFailed = false;

  constructor(private readonly o: PipelineOptions) {
    this.enricher = new Enricher(o.scanner ?? null);
    this.maxSegmentEvents = o.maxSegmentEvents ?? 1_000_000;
    this.makeRun = o.makeRun ?? defaultRun;
    this.log = o.log ?? (() => {});
    this.store = o.store ?? null;
    const ev = o.segmentEventMs;
    if (ev !== undefined && !(Number.isFinite(ev) && ev >= 1000))
      throw new Error(`segmentEventMs must be at least 1000 ms, got ${ev}`);
    this.segmentEventMs = ev ?? null;
    this.profile = null;
    this.profileTs = null;
    this.load(o.profile, o.profileTs ?? null);
    this.timer = setInterval(() => {
      const idle = this.writesSinceTick === 0;
      this.writesSinceTick = 0;
      if (this.segmentEventMs !== null && !idle) return;
      if (this.segmentEvents > 0 || (this.store !== null && this.pendingFlush)) void this.endSegment();
    }, o.segmentMs ?? 300_000);
    this.timer.unref();
  }

  /** Whether the store holds appended rows not yet flushed to Parquet. */
  private pendingFlush = false;

  private load(profile: Profile | null, ts: number | null): void {
    this.profile = profile;
    this.profileTs = ts;
    this.scorer = null;
    if (profile?.params !== undefined) {
      try {
        this.scorer = new ParamScorer(ParamProfile.fromJSON(profile.params));
      } catch (e) {
        this.log(
          `the profile's parameter profiles cannot be used, scoring without them: ${(e as Error).message}`,
        );
      }
    }
    this.run = profile === null ? null : this.makeRun(profile, this.o.detection ?? {});
  }

  async write(events: readonly ApiEvent[]): Promise<void> {
    if (this.closed) throw new Error('the detection pipeline is closed');
    this.st.eventsSeen += events.length;
    this.writesSinceTick += events.length;
    const store = this.store;
    if (this.run === null && store === null) return;
    const seg = this.segmentEventMs;
    // Segment ends started inside this batch (event clock): awaited after the batch, in order.
    const ended: Promise<SegmentResult>[] = [];
    for (const e of events) {
      if (seg !== null) {
        if (this.boundary === null) this.boundary = Math.floor(e.ts / seg) * seg + seg;
        else if (e.ts >= this.boundary) {
          // The events so far are queued for the store ahead of the segment's flush; the old run finishes
          // now (synchronously) and a fresh one takes this event.
          if (store !== null) void this.appendPending();
          ended.push(this.endSegment());
          this.boundary = Math.floor(e.ts / seg) * seg + seg;
        }
      }
      const fe = this.enricher.enrich(e);
      if (store !== null) this.pending.push(fe);
      const run = this.run;
      if (run === null) continue;
      if (this.scorer === null) run.push(fe);
      else run.push(fe, this.scorer.score(e));
      this.st.eventsJudged++;
      this.segmentEvents++;
    }
    if (store !== null) await this.appendPending();
    if (ended.length > 0) await Promise.all(ended);
    if (this.segmentEvents >= this.maxSegmentEvents) await this.endSegment();
  }

  /** Store operations run one after another (a flush must not interleave with an append). */
  private storeOps: Promise<void> = Promise.resolve();
  private queueStore(fn: (store: EventStore) => Promise<void>): Promise<void> {
    const store = this.store;
    if (store === null) return Promise.resolve();
    const next = this.storeOps.then(() => fn(store));
    this.storeOps = next.catch(() => {});
    return next;
  }

  /** Appends the enriched events waiting for the store (errors are logged once, not thrown: ingest goes on). */
  private appendPending(): Promise<void> {
    if (this.pending.length === 0) return this.storeOps;
    const batch = this.pending.splice(0, this.pending.length);
    return this.queueStore(async (store) => {
      try {
        await store.append(batch);
        this.eventsStored += batch.length;
        this.pendingFlush = true;
      } catch (e) {
        if (!this.storeFailed)
          this.log(`live pipeline: appending to the event store failed: ${(e as Error).message}`);
        this.storeFailed = true;
      }
    });
  }

  /** Writes the store's buffered rows to Parquet (after a segment, so a backtest sees what was judged). */
  private flushStore(): Promise<void> {
    return this.queueStore(async (store) => {
      if (!this.pendingFlush) return;
      this.pendingFlush = false;
      try {
        await store.flush();
      } catch (e) {
        this.log(`live pipeline: writing the event store failed: ${(e as Error).message}`);
      }
    });
  }

  /**
   * Ends the open segment now: its alerts become incidents and go to `onSegment`. A fresh run takes the
   * next events at once (the old one is finished synchronously before anything awaits).
   */
  endSegment(): Promise<SegmentResult> {
    const run = this.run;
    const events = this.segmentEvents;
    this.segmentEvents = 0;
    let result: SegmentResult = { events, alerts: [], incidents: [] };
    if (run !== null && events > 0) {
      this.run = this.makeRun(this.profile!, this.o.detection ?? {});
      const alerts = run.finish();
      const incidents = groupIncidents(alerts, {
        links: run.links(alerts.flatMap((a) => a.actors)),
        scenarioOf: (ep) => run.scenarioOf(ep),
      });
      result = { events, alerts, incidents };
      this.st.segments++;
      this.st.alerts += alerts.length;
      this.st.incidents += incidents.length;
      this.lastSegmentTs = Date.now();
    }
    const next = this.chain.then(async () => {
      await this.flushStore();
      if (result.alerts.length === 0) return;
      try {
        await this.o.onSegment(result);
      } catch (e) {
        this.log(
          `live pipeline: storing a segment's ${result.incidents.length} incident(s) failed: ${(e as Error).message}`,
        );
      }
    });
    this.chain = next;
    return next.then(() => result);
  }

  /** Judges from now on against `profile` (the open segment ends with the old one first). */
  async setProfile(profile: Profile | null, ts: number | null = null): Promise<void> {
    // endSegment finishes the old run before it returns its promise; the new profile's run replaces the
    // fresh one before anything can be written to it.
    const ended = this.endSegment();
    this.load(profile, ts);
    await ended;
  }

  stats(): PipelineStats {
    return {
      detecting: this.run !== null,
      profileTs: this.profileTs,
      ...this.st,
      segmentEvents: this.segmentEvents,
      lastSegmentTs: this.lastSegmentTs,
      eventsStored: this.store === null ? null : this.eventsStored,
    };
  }

  /** Ends the last segment, stops the timer, and closes the store (its last rows written). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    void this.appendPending();
    await this.endSegment();
    await this.queueStore(async (store) => {
      try {
        await store.close();
      } catch (e) {
        this.log(`live pipeline: closing the event store failed: ${(e as Error).message}`);
      }
    });
  }
}
