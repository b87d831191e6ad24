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
}

export interface PipelineOptions {
  profile: Profile | null;
  /** When the profile was stored (for stats). */
  profileTs?: number | null;
  detection?: DetectionOptions;
  scanner?: SensitiveScanner | null;
  /** Called with each finished segment's incidents (when it found any). Errors are logged, not thrown. */
  onSegment: (r: SegmentResult) => Promise<void>;
  /** Wall time between segment ends (default 5 min). */
  segmentMs?: number;
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

  constructor(private readonly o: PipelineOptions) {
    this.enricher = new Enricher(o.scanner ?? null);
    this.maxSegmentEvents = o.maxSegmentEvents ?? 1_000_000;
    this.makeRun = o.makeRun ?? defaultRun;
    this.log = o.log ?? (() => {});
    this.profile = null;
    this.profileTs = null;
    this.load(o.profile, o.profileTs ?? null);
    this.timer = setInterval(() => {
      if (this.segmentEvents > 0) void this.endSegment();
    }, o.segmentMs ?? 300_000);
    this.timer.unref();
  }

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
    const run = this.run;
    if (run === null) return;
    for (const e of events) {
      const fe = this.enricher.enrich(e);
      if (this.scorer === null) run.push(fe);
      else run.push(fe, this.scorer.score(e));
    }
    this.st.eventsJudged += events.length;
    this.segmentEvents += events.length;
    if (this.segmentEvents >= this.maxSegmentEvents) await this.endSegment();
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
    };
  }

  /** Ends the last segment and stops the timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.endSegment();
    this.closed = true;
  }
}
