/** Test helpers for the feature engines (not built into dist: tests only). */
import { SensitiveScanner } from '../sensitive/scanner.js';
import { ATTACK_TYPES } from '../simulate/attacks.js';
import { simulatedEvents } from '../simulate/replay.js';
import { DEFAULT_START, Simulation } from '../simulate/simulate.js';
import { Enricher, type FeatureEvent } from './enrich.js';
import { type FeatureInput, type FeatureSpec, parseFeatures } from './spec.js';

let seq = 0;

/** A FeatureEvent at `ts` with plain defaults; `seq` counts up across calls, as an enricher's would. */
export const featureEvent = (ts: number, extra: Partial<FeatureEvent> = {}): FeatureEvent => ({
  ts,
  seq: seq++,
  ip: '203.0.113.1',
  device: null,
  token: null,
  user: null,
  host: 'h',
  method: 'GET',
  path: '/a',
  endpoint: 'GET /a',
  scenario: 'listing',
  status: 200,
  latencyMs: 10,
  bytesOut: 100,
  bytesIn: null,
  userAgent: 'ua',
  numericId: null,
  sensitive: [],
  ...extra,
});

/** Parses feature specs, throwing on any error (tests write valid ones). */
export function specs(...fs: FeatureInput[]): FeatureSpec[] {
  const r = parseFeatures(fs);
  if (!r.ok) throw new Error(r.error.join('\n'));
  return r.value;
}

/**
 * Simulated traffic (all campaigns, half an hour of warm-up) read through the APISIX parser with bodies and
 * enriched with the sensitive scanner: what the engines see from a real gateway log.
 */
export function simulatedFeatureEvents(seed: number, hours: number, users: number): FeatureEvent[] {
  const sim = new Simulation({
    seed,
    start: DEFAULT_START,
    hours,
    users,
    attacks: ATTACK_TYPES,
    attackScale: 1,
    warmupHours: 0.5,
  });
  const enricher = new Enricher(new SensitiveScanner());
  const out: FeatureEvent[] = [];
  for (const e of simulatedEvents(sim, 'apisix', { captureBodies: true })) out.push(enricher.enrich(e));
  return out;
}
