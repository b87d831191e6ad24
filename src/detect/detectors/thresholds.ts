/**
 * Learned thresholds: every closed window of a detection feature is judged against the profile's threshold
 * for its endpoint (rate and id features) or its actor kind (the rest). A value over the edge of normal is a
 * finding of the signal's type. Actors the profile knows as habitual for the feature (they cross it period
 * after period: a schedule, a partner's sweep) are judged against themselves and skipped.
 */
import type { Snapshot } from '../../features/stream.js';
import { thresholdFor } from '../../profiling/profile.js';
import type { Detector, DetectorContext } from '../detector.js';
import { type Signal, splitKey, typeForScenario } from '../features.js';
import type { ActorRef } from '../types.js';

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

export class ThresholdDetector implements Detector {
  readonly name = 'learned_threshold';
  private readonly signals = new Map<string, Signal>();
  private readonly habitual = new Map<string, Map<string, number>>();

  constructor(
    private readonly ctx: DetectorContext,
    signals: readonly Signal[],
  ) {
    for (const s of signals) if (!s.supporting) this.signals.set(s.feature, s);
    for (const [f, own] of Object.entries(ctx.profile.habitual))
      this.habitual.set(f, new Map(Object.entries(own)));
  }

  onSnapshot(s: Snapshot): void {
    const sig = this.signals.get(s.feature);
    if (sig === undefined || s.value === null || s.events < sig.minEvents) return;
    const [actor, endpoint] = splitKey(sig, s.key);
    const scenario = endpoint === null ? '' : this.ctx.scenarioOf(endpoint);
    const t = thresholdFor(this.ctx.profile, s.feature, endpoint, scenario);
    if (t === null || s.value <= t.threshold) return;
    // An IP that carries several identities (a NAT, an office) is judged per identity on rates.
    let value = s.value;
    const behind = sig.actor === 'ip' && sig.perEndpoint ? this.ctx.identitiesBehind(actor) : 0;
    if (behind > 1) {
      value = s.value / behind;
      if (value <= t.threshold) return;
    }
    // Habitual actors are judged against their own usual peak (twice it), not the population's edge.
    const own = this.habitual.get(s.feature)?.get(actor);
    if (own !== undefined && s.value <= 2 * own) return;
    const type = sig.type === 'by_scenario' ? typeForScenario(s.feature, scenario) : sig.type;
    const ref: ActorRef = { kind: sig.actor, value: actor };
    const span = this.ctx.span(sig.actor, actor);
    const score = t.threshold <= 0 ? 1 : Math.min(1, 1 - t.threshold / value);
    const where = endpoint === null ? '' : ` on ${endpoint}`;
    this.ctx.emit({
      type,
      detector: this.name,
      actors: [ref, ...this.ctx.linked(sig.actor, actor, s.windowStart)],
      endpoints: endpoint === null ? [] : [endpoint],
      windowStart: s.windowStart,
      detectedTs: s.windowEnd,
      firstEventTs: Math.max(s.windowStart, span?.first ?? s.windowStart),
      lastEventTs: Math.min(s.windowEnd, span?.last ?? s.windowEnd),
      requests: s.events,
      score,
      confidence: t.confidence,
      evidence: [
        {
          feature: s.feature,
          value: s.value,
          threshold: t.threshold,
          source: t.borrowedFrom === undefined ? 'profile' : `profile (${t.borrowedFrom})`,
          windowStart: s.windowStart,
          windowEnd: s.windowEnd,
          ...(endpoint === null ? {} : { endpoint }),
        },
      ],
      explanation: `${sig.actor} ${actor} reached ${fmt(s.value)} ${sig.unit}${where}${behind > 1 ? ` (${fmt(value)} per each of ${behind} identities behind it)` : ''}, above the learned limit of ${fmt(t.threshold)} (p99 of peers ${fmt(t.p99)}).`,
    });
  }
}
