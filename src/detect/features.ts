/**
 * The detection feature set: what the detectors read, declared as feature specs like any other (so the stream
 * engine computes them live and the batch engine over the store, with the same numbers). Each detection
 * feature says which behaviour it measures (`type`), whose behaviour (`actor`), and whether its thresholds
 * are learned per endpoint (the key ends with `endpoint`) or for the whole population of that actor kind.
 */
import type { ActorKind } from '../core/event.js';
import { type FeatureInput, type FeatureSpec, parseFeatures } from '../features/spec.js';
import { KEY_SEP } from '../features/stream.js';
import type { AnomalyType } from './types.js';

const MIN = 60_000;
const LATENESS = 5_000;
const tumbling = (minutes: number) => ({
  type: 'tumbling' as const,
  sizeMs: minutes * MIN,
  latenessMs: LATENESS,
});

/** How a detection feature is read. */
export interface Signal {
  feature: string;
  actor: ActorKind;
  /** Thresholds per endpoint (key = [actor, endpoint]) or one per population. */
  perEndpoint: boolean;
  /** The behaviour a value above the threshold indicates; per-endpoint rate signals take it from the scenario. */
  type: AnomalyType | 'by_scenario';
  /** The unit, for explanations and `profile show`. */
  unit: string;
  /** Below this many events in the window a value is not judged (too little to say). */
  minEvents: number;
  /** Only a supporting fact: never raises an alert on its own. */
  supporting?: boolean;
}

/** A detection snapshot's key as [actor, endpoint]; the endpoint is null unless the feature is per endpoint. */
export function splitKey(sig: Signal, key: string): [actor: string, endpoint: string | null] {
  if (!sig.perEndpoint) return [key, null];
  const i = key.lastIndexOf(KEY_SEP);
  return [key.slice(0, i), key.slice(i + 1)];
}

const ID_SCENARIOS = ['detail', 'personal_data', 'orders'];

function forActor(k: ActorKind): { specs: FeatureInput[]; signals: Signal[] } {
  const specs: FeatureInput[] = [];
  const signals: Signal[] = [];
  const add = (spec: FeatureInput, s: Omit<Signal, 'feature' | 'actor'>) => {
    specs.push(spec);
    signals.push({ feature: spec.name, actor: k, ...s });
  };
  add(
    { name: `rpm_by_${k}_endpoint`, key: [k, 'endpoint'], window: tumbling(1), agg: { fn: 'count' } },
    { perEndpoint: true, type: 'by_scenario', unit: 'req/min', minEvents: 1 },
  );
  add(
    {
      name: `ids_5m_by_${k}_endpoint`,
      key: [k, 'endpoint'],
      window: tumbling(5),
      agg: { fn: 'distinct', field: 'path' },
      filter: { scenario: ID_SCENARIOS },
    },
    { perEndpoint: true, type: 'by_scenario', unit: 'distinct ids / 5 min', minEvents: 1 },
  );
  add(
    {
      name: `seq_10m_by_${k}`,
      key: [k],
      window: tumbling(10),
      agg: { fn: 'sequential_id_score' },
      filter: { scenario: ID_SCENARIOS },
    },
    {
      perEndpoint: false,
      type: 'crawler',
      unit: 'share of id steps of 1-2',
      minEvents: 10,
      supporting: true,
    },
  );
  add(
    {
      name: `auth_failures_15m_by_${k}`,
      key: [k],
      window: tumbling(15),
      agg: { fn: 'count' },
      filter: { scenario: ['authentication'], status: ['4xx'] },
    },
    { perEndpoint: false, type: 'credential_stuffing', unit: 'failed logins / 15 min', minEvents: 1 },
  );
  add(
    {
      name: `otp_5m_by_${k}`,
      key: [k],
      window: tumbling(5),
      agg: { fn: 'count' },
      filter: { scenario: ['otp'] },
    },
    { perEndpoint: false, type: 'otp_abuse', unit: 'OTP requests / 5 min', minEvents: 1 },
  );
  add(
    {
      name: `errors_5m_by_${k}`,
      key: [k],
      window: tumbling(5),
      agg: { fn: 'distinct', field: 'path' },
      filter: { status: ['4xx'], static: false },
    },
    { perEndpoint: false, type: 'scanner', unit: 'distinct paths answered 4xx / 5 min', minEvents: 1 },
  );
  add(
    { name: `sensitive_1h_by_${k}`, key: [k], window: tumbling(60), agg: { fn: 'sensitive_distinct' } },
    { perEndpoint: false, type: 'data_exfiltration', unit: 'distinct sensitive values / h', minEvents: 1 },
  );
  add(
    {
      name: `bytes_1h_by_${k}`,
      key: [k],
      window: tumbling(60),
      agg: { fn: 'sum', field: 'bytes_out' },
      filter: { static: false },
    },
    { perEndpoint: false, type: 'data_exfiltration', unit: 'API bytes out / h', minEvents: 1 },
  );
  return { specs, signals };
}

const ACTORS: ActorKind[] = ['ip', 'token', 'device'];

let cache: { specs: FeatureSpec[]; signals: Signal[] } | null = null;

/** The detection features (parsed specs) and how each is read. */
export function detectionFeatures(): { specs: FeatureSpec[]; signals: Signal[] } {
  if (cache === null) {
    const inputs: FeatureInput[] = [];
    const signals: Signal[] = [];
    for (const k of ACTORS) {
      const f = forActor(k);
      inputs.push(...f.specs);
      signals.push(...f.signals);
    }
    const r = parseFeatures(inputs);
    if (!r.ok) throw new Error(`detection features: ${r.error.join('; ')}`);
    cache = { specs: r.value, signals };
  }
  return cache;
}

/** The anomaly type of a per-endpoint signal on an endpoint of this scenario. */
export function typeForScenario(feature: string, scenario: string): AnomalyType {
  if (feature.startsWith('ids_')) return scenario === 'detail' ? 'crawler' : 'enumeration';
  switch (scenario) {
    case 'otp':
      return 'otp_abuse';
    case 'authentication':
    case 'registration':
      return 'credential_stuffing';
    default:
      return 'high_frequency';
  }
}
