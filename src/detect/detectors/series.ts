/**
 * Per-endpoint time series: request volume, error rate and p95 latency in 5-minute buckets, with spikes and
 * drops found against a robust seasonal baseline (src/detect/timeseries.ts). These are endpoint anomalies, not
 * actor behaviour: an upstream outage is one too. They are reported beside the alerts (`anomalies.jsonl`),
 * and the report draws them; actor alerts stay about actors.
 */
import type { FeatureEvent } from '../../features/enrich.js';
import type { Detector } from '../detector.js';
import { type Anomaly, OnlineDetector, SeriesBuilder } from '../timeseries.js';

export class SeriesDetector implements Detector {
  readonly name = 'endpoint_series';
  private readonly builder: SeriesBuilder;
  private readonly online: OnlineDetector;
  readonly anomalies: Anomaly[] = [];

  constructor(bucketMs = 300_000) {
    this.online = new OnlineDetector({ bucketMs, onAnomaly: (a) => this.anomalies.push(a) });
    this.builder = new SeriesBuilder({
      bucketMs,
      maxBuckets: 0,
      onBucket: (endpoint, bucket) => {
        this.online.push(endpoint, bucket);
      },
    });
  }

  onEvent(e: FeatureEvent): void {
    if (e.scenario === 'static') return;
    this.builder.add(e.endpoint, e.ts, e.status, e.latencyMs);
  }

  finish(): void {
    this.builder.flush();
    this.online.flush();
    this.anomalies.sort((a, b) => a.startTs - b.startTs || (a.endpoint < b.endpoint ? -1 : 1));
  }
}
