/**
 * The default feature set for API abuse (docs/features.md explains each one and the behaviour it exposes).
 * Windows are minutes to an hour: the stream engine keeps them cheap; longer, stealthier behaviour is the batch
 * engine's job over the store with the same specs and longer windows.
 */
import { type FeatureInput, type FeatureSpec, parseFeatures } from './spec.js';

const MIN = 60_000;
const tumbling = (minutes: number, latenessMs = 5_000) => ({
  type: 'tumbling' as const,
  sizeMs: minutes * MIN,
  latenessMs,
});

export const DEFAULT_FEATURE_INPUT: FeatureInput[] = [
  { name: 'requests_per_min_by_ip', key: ['ip'], window: tumbling(1), agg: { fn: 'count' } },
  {
    name: 'requests_10m_by_ip_endpoint',
    key: ['ip', 'endpoint'],
    window: { type: 'hopping', sizeMs: 10 * MIN, advanceMs: 5 * MIN, latenessMs: 5_000 },
    agg: { fn: 'count' },
  },
  {
    name: 'distinct_endpoints_5m_by_ip',
    key: ['ip'],
    window: tumbling(5),
    agg: { fn: 'distinct', field: 'endpoint' },
  },
  {
    name: 'distinct_paths_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'distinct', field: 'path' },
    filter: { static: false },
  },
  {
    name: 'status_4xx_ratio_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'ratio', where: { status: ['4xx'] } },
  },
  {
    name: 'static_share_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'ratio', where: { static: true } },
  },
  {
    name: 'post_share_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'ratio', where: { method: ['POST'] } },
  },
  {
    name: 'path_entropy_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'entropy', field: 'path' },
    filter: { static: false },
  },
  {
    name: 'distinct_user_agents_1h_by_ip',
    key: ['ip'],
    window: tumbling(60),
    agg: { fn: 'distinct', field: 'user_agent' },
  },
  {
    name: 'interarrival_cv_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'interarrival_cv' },
    filter: { static: false },
  },
  {
    name: 'sequential_id_score_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'sequential_id_score' },
    filter: { scenario: ['detail', 'personal_data'] },
  },
  {
    name: 'login_failures_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'count' },
    filter: { scenario: ['authentication'], status: ['4xx'] },
  },
  {
    name: 'otp_requests_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'count' },
    filter: { scenario: ['otp'] },
  },
  {
    name: 'otp_requests_10m_by_device',
    key: ['device'],
    window: tumbling(10),
    agg: { fn: 'count' },
    filter: { scenario: ['otp'] },
  },
  {
    name: 'distinct_personal_paths_1h_by_token',
    key: ['token'],
    window: tumbling(60),
    agg: { fn: 'distinct', field: 'path' },
    filter: { scenario: ['personal_data'] },
  },
  {
    name: 'sensitive_values_1h_by_token',
    key: ['token'],
    window: tumbling(60),
    agg: { fn: 'sensitive_distinct' },
  },
  {
    name: 'bytes_out_1h_by_token',
    key: ['token'],
    window: tumbling(60),
    agg: { fn: 'sum', field: 'bytes_out' },
  },
  {
    name: 'distinct_ips_1h_by_user',
    key: ['user'],
    window: tumbling(60),
    agg: { fn: 'distinct', field: 'ip' },
  },
  {
    name: 'session_requests_by_token',
    key: ['token'],
    window: { type: 'session', gapMs: 30 * MIN, latenessMs: 5_000 },
    agg: { fn: 'count' },
  },
  {
    name: 'new_endpoint_share_10m_by_ip',
    key: ['ip'],
    window: tumbling(10),
    agg: { fn: 'new_endpoint_share' },
  },
  { name: 'requests_per_min_by_endpoint', key: ['endpoint'], window: tumbling(1), agg: { fn: 'count' } },
  {
    name: 'latency_p95_5m_by_endpoint',
    key: ['endpoint'],
    window: tumbling(5),
    agg: { fn: 'quantile', field: 'latency_ms', q: 0.95 },
  },
];

export function defaultFeatures(): FeatureSpec[] {
  const r = parseFeatures(DEFAULT_FEATURE_INPUT);
  if (!r.ok) throw new Error(`default feature set is invalid: ${r.error.join('; ')}`);
  return r.value;
}
