/**
 * `/metrics` in the Prometheus text format (version 0.0.4), written by hand: a few counters and gauges do not
 * need a client library. The server counts what passes through it (ingest, alerts, HTTP requests); the
 * incident and decision gauges are counted in the state at scrape time, so they are right whichever process
 * changed the state. Label values come from fixed sets (routes as templates, statuses, reasons, types), never
 * from raw paths, so the series stay few; they are escaped all the same.
 */
import { INCIDENT_STATUSES } from '../detect/incidents.js';
import { DECISION_STATUSES } from '../respond/types.js';
import { decText } from '../store/state/codec.js';
import type { PgStateStore } from '../store/state/pg-state.js';

/** Seconds the events-per-second gauge averages over. */
const RATE_WINDOW_SEC = 10;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

const num = (v: number) =>
  Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';

/** Text of one metric family. */
function family(
  name: string,
  type: 'counter' | 'gauge',
  help: string,
  samples: readonly (readonly [Labels, number])[],
): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, v] of samples) lines.push(`${name}${labelText(labels)} ${num(v)}`);
  return `${lines.join('\n')}\n`;
}

/** A counter keyed by a tuple of label values. */
class Tally {
  private readonly m = new Map<string, number>();
  constructor(private readonly names: readonly string[]) {}
  add(values: readonly string[], n = 1): void {
    const k = values.join('\u0000');
    this.m.set(k, (this.m.get(k) ?? 0) + n);
  }
  get(values: readonly string[]): number {
    return this.m.get(values.join('\u0000')) ?? 0;
  }
  samples(): [Labels, number][] {
    return [...this.m]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([k, v]) => {
        const parts = k.split('\u0000');
        return [Object.fromEntries(this.names.map((n, i) => [n, parts[i]!])), v];
      });
  }
}

export class Metrics {
  eventsIngested = 0;
  /** Highest event time ingested (ms), for the lag gauge. */
  lastEventTs: number | null = null;
  readonly malformed = new Tally(['reason']);
  readonly alerts = new Tally(['type']);
  readonly http = new Tally(['method', 'route', 'status']);
  /** Events pushed into detection (0 while there is no profile). */
  detectedEvents = 0;
  sseClients = 0;
  private readonly buckets = new Float64Array(RATE_WINDOW_SEC);
  private readonly bucketSec = new Float64Array(RATE_WINDOW_SEC).fill(-1);

  constructor(private readonly now: () => number = Date.now) {}

  /** Events accepted by ingest, with the highest event time among them. */
  ingested(n: number, maxTs: number | null): void {
    this.eventsIngested += n;
    if (maxTs !== null && (this.lastEventTs === null || maxTs > this.lastEventTs)) this.lastEventTs = maxTs;
    const sec = Math.floor(this.now() / 1000);
    const i = sec % RATE_WINDOW_SEC;
    if (this.bucketSec[i] !== sec) {
      this.bucketSec[i] = sec;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += n;
  }

  /** Events per second over the last RATE_WINDOW_SEC whole seconds and the current one. */
  eventsPerSec(): number {
    const sec = Math.floor(this.now() / 1000);
    let sum = 0;
    for (let i = 0; i < RATE_WINDOW_SEC; i++)
      if (this.bucketSec[i]! > sec - RATE_WINDOW_SEC) sum += this.buckets[i]!;
    return sum / RATE_WINDOW_SEC;
  }

  /** The Prometheus text of everything; the state gauges are counted now. */
  async render(state: PgStateStore): Promise<string> {
    const [incidents, decisions] = await Promise.all([
      countByStatus(state, 'incidents', INCIDENT_STATUSES),
      countByStatus(state, 'decisions', DECISION_STATUSES),
    ]);
    const mem = process.memoryUsage();
    const out = [
      family('apiwarden_ingest_events_total', 'counter', 'Events accepted by POST /api/v1/ingest.', [
        [{}, this.eventsIngested],
      ]),
      family(
        'apiwarden_ingest_events_per_second',
        'gauge',
        `Events accepted per second, averaged over the last ${RATE_WINDOW_SEC} s.`,
        [[{}, this.eventsPerSec()]],
      ),
      family(
        'apiwarden_ingest_malformed_total',
        'counter',
        'Ingested records that did not parse, by reason.',
        this.malformed.samples(),
      ),
      family(
        'apiwarden_ingest_lag_seconds',
        'gauge',
        'Now minus the latest event time ingested (absent before the first event).',
        this.lastEventTs === null ? [] : [[{}, (this.now() - this.lastEventTs) / 1000]],
      ),
      family(
        'apiwarden_detection_events_total',
        'counter',
        'Events judged by the live detection pipeline (0 while no profile is stored).',
        [[{}, this.detectedEvents]],
      ),
      family(
        'apiwarden_alerts_total',
        'counter',
        'Alerts raised by the live pipeline, by type.',
        this.alerts.samples(),
      ),
      family(
        'apiwarden_incidents',
        'gauge',
        'Incidents in the state, by status.',
        INCIDENT_STATUSES.map((s) => [{ status: s }, incidents.get(s) ?? 0] as const),
      ),
      family(
        'apiwarden_decisions',
        'gauge',
        'Decisions in the state, by status.',
        DECISION_STATUSES.map((s) => [{ status: s }, decisions.get(s) ?? 0] as const),
      ),
      family('apiwarden_process_resident_memory_bytes', 'gauge', 'Resident set size.', [[{}, mem.rss]]),
      family('apiwarden_process_heap_used_bytes', 'gauge', 'V8 heap in use.', [[{}, mem.heapUsed]]),
      family('apiwarden_process_heap_total_bytes', 'gauge', 'V8 heap allocated.', [[{}, mem.heapTotal]]),
      family('apiwarden_sse_clients', 'gauge', 'Open GET /api/v1/events streams.', [[{}, this.sseClients]]),
      family(
        'apiwarden_http_requests_total',
        'counter',
        'HTTP requests answered, by method, route template and status.',
        this.http.samples(),
      ),
    ];
    return out.join('');
  }
}

async function countByStatus(
  state: PgStateStore,
  table: 'incidents' | 'decisions',
  known: readonly string[],
): Promise<Map<string, number>> {
  // The table name is one of two constants, never input.
  const rows = await state.db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM ${table} GROUP BY status`,
  );
  const m = new Map<string, number>();
  for (const r of rows) {
    const s = decText(r.status);
    if (known.includes(s)) m.set(s, r.n);
  }
  return m;
}
