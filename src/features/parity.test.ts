/**
 * Parity: the stream engine and the batch engine (SQL over the store) give the same rows on simulated
 * traffic with the default feature set. Exact where both are exact; the stream's sketches within their
 * guarantees (quantiles 1% relative; distinct counts past the exact limit, 3 HyperLogLog standard errors).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../store/events.js';
import { runBatch } from './batch.js';
import { defaultFeatures } from './defaults.js';
import type { FeatureEvent } from './enrich.js';
import { DEFAULT_EXACT_LIMIT, DEFAULT_P, hllStandardError } from './sketch/index.js';
import { type FeatureSpec, parseFeatures } from './spec.js';
import { type Snapshot, StreamEngine } from './stream.js';
import { simulatedFeatureEvents } from './testing.js';

const id = (s: Snapshot) => `${s.feature}\u0000${s.key}\u0000${s.windowStart}`;

/** How close the stream's value must be to the batch engine's for this feature. */
function agrees(spec: FeatureSpec, stream: number | null, batch: number | null): boolean {
  if (stream === null || batch === null) return stream === batch;
  const a = spec.agg;
  if (a.fn === 'quantile') return Math.abs(stream - batch) <= 0.01 * Math.abs(batch);
  if (a.fn === 'distinct' || a.fn === 'sensitive_distinct') {
    const limit = a.fn === 'distinct' ? (a.exactLimit ?? DEFAULT_EXACT_LIMIT) : DEFAULT_EXACT_LIMIT;
    if (batch <= limit) return stream === batch;
    return Math.abs(stream - batch) <= 3 * hllStandardError(DEFAULT_P) * batch;
  }
  // Counts, ratios, sums, shares and scores are the same arithmetic; entropy and inter-arrival statistics
  // are summed in a different order (Welford vs DuckDB's aggregates): 1e-9 relative.
  return Math.abs(stream - batch) <= 1e-9 * Math.max(1, Math.abs(batch));
}

describe('stream and batch parity on simulated traffic', () => {
  // The default set, plus features that reach paths it does not on this little traffic: distinct counts past
  // a (lowered) exact limit, a second feature in the token-session group (sessions are cut on the group's
  // events), inter-arrival means and entropy over hopping windows.
  const extra = parseFeatures([
    {
      name: 'distinct_ips_1h_by_endpoint_hll',
      key: ['endpoint'],
      window: { type: 'tumbling', sizeMs: 3_600_000 },
      agg: { fn: 'distinct', field: 'ip', exactLimit: 32 },
    },
    {
      name: 'session_gap_mean_by_token',
      key: ['token'],
      window: { type: 'session', gapMs: 1_800_000, latenessMs: 5_000 },
      agg: { fn: 'interarrival_mean' },
      filter: { method: ['GET'] },
    },
    {
      name: 'ua_entropy_10m_by_endpoint',
      key: ['endpoint'],
      window: { type: 'hopping', sizeMs: 600_000, advanceMs: 300_000 },
      agg: { fn: 'entropy', field: 'user_agent' },
    },
  ]);
  if (!extra.ok) throw new Error(extra.error.join('; '));
  const specs = [...defaultFeatures(), ...extra.value];
  let events: FeatureEvent[] = [];
  let dir = '';
  const stream: Snapshot[] = [];
  let batch: Snapshot[] = [];
  let late = 0;

  beforeAll(async () => {
    events = simulatedFeatureEvents(7, 3, 500);
    dir = await mkdtemp(join(tmpdir(), 'apiwarden-parity-'));
    const store = new EventStore(dir);
    for (let i = 0; i < events.length; i += 10_000) await store.append(events.slice(i, i + 10_000));
    await store.close();
    const engine = new StreamEngine(specs);
    for (const e of events) stream.push(...engine.push(e));
    stream.push(...engine.flush());
    for (const f of Object.values(engine.stats().features)) late += f.late + f.overflow;
    batch = await runBatch(specs, { dir });
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('drops nothing in the stream (time-ordered input)', () => {
    expect(events.length).toBeGreaterThan(10_000);
    expect(late).toBe(0);
  });

  it('emits the same rows with the same event counts', () => {
    expect(batch.length).toBe(stream.length);
    const b = new Map(batch.map((r) => [id(r), r]));
    const missing = stream.filter((r) => !b.has(id(r)));
    expect(missing.slice(0, 5)).toEqual([]);
    const mismatched = stream.filter((r) => {
      const o = b.get(id(r))!;
      return o.windowEnd !== r.windowEnd || o.events !== r.events;
    });
    expect(mismatched.slice(0, 5)).toEqual([]);
    // Every feature of the default set produced rows.
    expect(new Set(stream.map((r) => r.feature)).size).toBe(specs.length);
  });

  it('agrees on every value within the engines’ guarantees', () => {
    const b = new Map(batch.map((r) => [id(r), r]));
    const byName = new Map(specs.map((s) => [s.name, s]));
    const bad = stream
      .filter((r) => {
        const o = b.get(id(r));
        return o === undefined || !agrees(byName.get(r.feature)!, r.value, o.value);
      })
      .map((r) => ({ ...r, batch: b.get(id(r))?.value }));
    expect(bad.slice(0, 5)).toEqual([]);
    // The HyperLogLog side of the distinct counter was reached (and held within 3 standard errors).
    const hll = batch.filter((r) => r.feature === 'distinct_ips_1h_by_endpoint_hll' && r.value! > 32);
    expect(hll.length).toBeGreaterThan(0);
  });
});
