/**
 * Configured rules (docs/detection.md, "Rules"): a detection feature against a static limit, or against the
 * profile's statistics of that feature — a z-score over the actors' peaks, a robust z-score (median and MAD),
 * or a percentile of the peaks. Rules add to the learned thresholds; they do not replace them.
 */
import type { RuleConfig } from '../../config/schema.js';
import type { Snapshot } from '../../features/stream.js';
import { thresholdFor } from '../../profiling/profile.js';
import type { Detector, DetectorContext } from '../detector.js';
import { detectionFeatures, type Signal, splitKey } from '../features.js';

/** Rules whose feature is not a detection feature: each message names the rule and lists the valid names. */
export function checkRules(rules: readonly RuleConfig[]): string[] {
  const names = new Set(detectionFeatures().signals.map((s) => s.feature));
  const problems: string[] = [];
  rules.forEach((r, i) => {
    if (!names.has(r.feature))
      problems.push(
        `detection.rules[${i}].feature: '${r.feature}' is not a detection feature; use one of ${[...names].join(', ')}`,
      );
    else if (
      r.endpoint !== undefined &&
      !detectionFeatures().signals.find((s) => s.feature === r.feature)!.perEndpoint
    )
      problems.push(`detection.rules[${i}].endpoint: '${r.feature}' is not per endpoint; remove endpoint`);
  });
  return problems;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

export class RuleDetector implements Detector {
  readonly name = 'rule';
  private readonly byFeature = new Map<string, RuleConfig[]>();
  private readonly signals = new Map<string, Signal>();

  constructor(
    private readonly ctx: DetectorContext,
    rules: readonly RuleConfig[],
  ) {
    for (const r of rules) {
      const l = this.byFeature.get(r.feature);
      if (l === undefined) this.byFeature.set(r.feature, [r]);
      else l.push(r);
    }
    for (const s of detectionFeatures().signals) this.signals.set(s.feature, s);
  }

  onSnapshot(s: Snapshot): void {
    const rules = this.byFeature.get(s.feature);
    if (rules === undefined || s.value === null) return;
    const sig = this.signals.get(s.feature)!;
    const [actor, endpoint] = splitKey(sig, s.key);
    for (const r of rules) {
      if (r.endpoint !== undefined && r.endpoint !== endpoint) continue;
      let limit: number;
      let what: string;
      if (r.above !== undefined) {
        limit = r.above;
        what = `the configured limit of ${fmt(limit)}`;
      } else {
        const t = thresholdFor(
          this.ctx.profile,
          s.feature,
          endpoint,
          endpoint === null ? '' : this.ctx.scenarioOf(endpoint),
        );
        if (t === null) continue;
        if (r.zAbove !== undefined) {
          limit = t.mean + r.zAbove * Math.max(t.std, 1e-9);
          what = `z > ${r.zAbove} (mean ${fmt(t.mean)}, sd ${fmt(t.std)})`;
        } else if (r.robustZAbove !== undefined) {
          limit = t.p50 + r.robustZAbove * 1.4826 * Math.max(t.mad, 1e-9);
          what = `robust z > ${r.robustZAbove} (median ${fmt(t.p50)}, MAD ${fmt(t.mad)})`;
        } else {
          const p = r.percentileAbove!;
          limit = p >= 99.9 ? t.p999 : p >= 99 ? t.p99 : t.p50;
          what = `the p${p >= 99.9 ? '99.9' : p >= 99 ? '99' : '50'} of peers (${fmt(limit)})`;
        }
      }
      if (s.value <= limit) continue;
      const span = this.ctx.span(sig.actor, actor);
      this.ctx.emit({
        type: r.type,
        detector: `${this.name}:${r.name}`,
        actors: [{ kind: sig.actor, value: actor }, ...this.ctx.linked(sig.actor, actor, s.windowStart)],
        endpoints: endpoint === null ? [] : [endpoint],
        windowStart: s.windowStart,
        detectedTs: s.windowEnd,
        firstEventTs: Math.max(s.windowStart, span?.first ?? s.windowStart),
        lastEventTs: Math.min(s.windowEnd, span?.last ?? s.windowEnd),
        requests: s.events,
        score: limit <= 0 ? 1 : Math.min(1, 1 - limit / s.value),
        confidence: 1,
        ...(r.severity === undefined ? {} : { severity: r.severity }),
        evidence: [
          {
            feature: s.feature,
            value: s.value,
            threshold: Math.round(limit * 1000) / 1000,
            source: `config (rule ${r.name})`,
            windowStart: s.windowStart,
            windowEnd: s.windowEnd,
            ...(endpoint === null ? {} : { endpoint }),
          },
        ],
        explanation: `rule ${r.name}: ${sig.actor} ${actor} reached ${fmt(s.value)} ${sig.unit}${endpoint === null ? '' : ` on ${endpoint}`}, above ${what}.`,
      });
    }
  }
}
