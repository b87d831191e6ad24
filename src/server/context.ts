/**
 * What every route shares: the state, the configuration, the current profile, the live hub, the metrics, and
 * one write lock. The Responder's operations read a record, change it and write it back; two requests doing
 * that to one incident at once would lose one change, so every change in this process runs under `serial`
 * (reads do not wait). Several processes on one PostgreSQL are not serialized with each other: the audit log
 * stays consistent (it takes a row lock), a concurrent change to the same incident can be lost (docs/server.md).
 *
 * Changes are announced in one place (`announce`): to the SSE hub as summaries, and to the configured
 * notification channels (webhooks, Slack) with the same events the CLI sends.
 */
import type { Config } from '../config/schema.js';
import type { Profile } from '../profiling/profile.js';
import { decisionEvent, incidentEvent, type Notifier } from '../respond/notify.js';
import type { IncidentRecord } from '../respond/state.js';
import type { Decision } from '../respond/types.js';
import { Responder } from '../respond/workflow.js';
import type { EventSink } from '../sinks/types.js';
import type { PgStateStore } from '../store/state/pg-state.js';
import type { LiveHub } from './live.js';
import type { Metrics } from './metrics.js';
import type { PipelineStats } from './pipeline.js';
import { incidentSummary } from './views.js';

/** The ingest hook: any EventSink; the default pipeline also reports stats and takes new profiles. */
export interface IngestSink extends EventSink {
  stats?(): PipelineStats;
  setProfile?(profile: Profile | null, ts: number | null): Promise<void>;
  endSegment?(): Promise<{ events: number; alerts: unknown[]; incidents: unknown[] }>;
}

export interface CurrentProfile {
  profile: Profile | null;
  id: number | null;
  ts: number | null;
}

export type Change =
  | { kind: 'incident.new' | 'incident.updated'; incident: IncidentRecord }
  | {
      kind: 'decision.new' | 'decision.approved' | 'decision.revoked' | 'decision.expired';
      decision: Decision;
    };

export class ServerContext {
  private chain: Promise<unknown> = Promise.resolve();
  readonly current: CurrentProfile = { profile: null, id: null, ts: null };

  constructor(
    readonly state: PgStateStore,
    readonly config: Config,
    readonly hub: LiveHub,
    readonly metrics: Metrics,
    readonly sink: IngestSink,
    readonly notifier: Notifier | null,
    readonly o: {
      maxBodyBytes: number;
      storeDir: string | null;
      now: () => number;
      log: (msg: string) => void;
    },
  ) {}

  /** Runs `fn` after every change started before it (one writer at a time in this process). */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  /**
   * A responder over the state with the configured policy and the current profile; `mergeOpen` for the live
   * pipeline's segments (a behaviour spanning segments stays one incident).
   */
  responder(o: { mergeOpen?: boolean } = {}): Responder {
    return new Responder(this.state, {
      policy: this.config.response,
      profile: this.current.profile,
      now: this.o.now,
      ...(o.mergeOpen === true ? { mergeOpen: true } : {}),
    });
  }

  /** Stores the current profile again when a false positive taught it (a new version). */
  async saveLearnedProfile(): Promise<void> {
    const p = this.current.profile;
    if (p === null) return;
    const info = await this.state.putProfile(p);
    this.current.id = info.id;
    this.current.ts = info.ts;
  }

  /** Tells the live streams and the notification channels. */
  announce(changes: readonly Change[]): void {
    if (changes.length === 0) return;
    for (const ch of changes) {
      if ('incident' in ch) this.hub.publish(ch.kind, incidentSummary(ch.incident, null));
      else this.hub.publish(ch.kind, ch.decision);
    }
    const n = this.notifier;
    if (n === null) return;
    for (const ch of changes) {
      if ('incident' in ch) void n.notify(incidentEvent(ch.incident, ch.kind));
      else if (ch.kind === 'decision.approved') void n.notify(decisionEvent(ch.decision, 'decision.new'));
      else void n.notify(decisionEvent(ch.decision, ch.kind));
    }
  }
}
