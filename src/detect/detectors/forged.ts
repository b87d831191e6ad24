/**
 * Forged parameters, per actor: every request is scored against the per-endpoint parameter profiles
 * (src/detect/params.ts, docs/params.md) — a tampered price, an impossible quantity, a signature the server
 * refused, a guessed coupon. One odd request is a typo; an actor whose requests keep failing the profile is
 * forging. Per actor (its token, else its user, else its address), the scores of its requests within an hour
 * that reach `minScore` combine like independent evidence (noisy-OR: 1 - Π(1 - s)); at `minEvidence`, with at
 * least `minRequests` such requests, it raises an alert listing the strongest reasons. So two strong findings
 * (0.7 each) or a handful of moderate ones (a few coupon codes the server did not know) are enough; a lone odd
 * request never is.
 */
import { owned } from '../../core/strings.js';
import type { FeatureEvent } from '../../features/enrich.js';
import type { Detector, DetectorContext } from '../detector.js';
import type { Reason } from '../params.js';
import type { ActorRef, Evidence } from '../types.js';

export interface ForgedOptions {
  /** Requests below this score are not evidence (default 0.2). */
  minScore?: number;
  /** Combined evidence that raises an alert (default 0.9). */
  minEvidence?: number;
  /** Forged requests an actor needs within `windowMs` (default 2: one odd request is a typo). */
  minRequests?: number;
  windowMs?: number;
}

interface ActorState {
  times: number[];
  scores: number[];
  reasons: Reason[];
  endpoints: Set<string>;
  first: number;
  reported: boolean;
}

const MAX_ACTORS = 100_000;

export class ForgedDetector implements Detector {
  readonly name = 'param_profile';
  private readonly minScore: number;
  private readonly minEvidence: number;
  private readonly minRequests: number;
  private readonly windowMs: number;
  private readonly actors = new Map<string, ActorState>();

  constructor(
    private readonly ctx: DetectorContext,
    o: ForgedOptions = {},
  ) {
    this.minScore = o.minScore ?? 0.2;
    this.minEvidence = o.minEvidence ?? 0.9;
    this.minRequests = o.minRequests ?? 2;
    this.windowMs = o.windowMs ?? 3_600_000;
  }

  /** One scored request (called by the run for every event that has parameters). */
  observe(e: FeatureEvent, score: number, reasons: readonly Reason[]): void {
    if (score < this.minScore) return;
    const actor: ActorRef =
      e.token !== null
        ? { kind: 'token', value: e.token }
        : e.user !== null
          ? { kind: 'user', value: e.user }
          : { kind: 'ip', value: e.ip };
    const k = `${actor.kind}:${actor.value}`;
    let s = this.actors.get(k);
    if (s === undefined) {
      if (this.actors.size >= MAX_ACTORS) return;
      s = { times: [], scores: [], reasons: [], endpoints: new Set(), first: e.ts, reported: false };
      this.actors.set(owned(k), s);
    }
    s.times.push(e.ts);
    s.scores.push(score);
    while (s.times.length > 0 && s.times[0]! < e.ts - this.windowMs) {
      s.times.shift();
      s.scores.shift();
    }
    if (s.reasons.length < 8)
      for (const r of reasons.slice(0, 2))
        s.reasons.push({
          ...r,
          param: owned(r.param),
          observed: owned(r.observed),
          expected: owned(r.expected),
        });
    if (s.endpoints.size < 16) s.endpoints.add(e.endpoint);
    if (s.times.length < this.minRequests) return;
    let clean = 1;
    for (const x of s.scores) clean *= 1 - x;
    const evidenceScore = 1 - clean;
    if (evidenceScore < this.minEvidence) return;
    const evidence: Evidence[] = s.reasons.slice(0, 8).map((r) => ({
      feature: `param.${r.check}`,
      value: r.observed,
      source: 'profile',
      note: `${r.param}: expected ${r.expected} (weight ${r.weight.toFixed(2)})`,
    }));
    const top = s.reasons[0];
    this.ctx.emit({
      type: 'forged_parameters',
      detector: this.name,
      actors: [
        actor,
        ...(actor.kind === 'ip' ? [] : [{ kind: 'ip' as const, value: e.ip }]),
        ...this.ctx.linked(actor.kind, actor.value, e.ts - this.windowMs),
      ],
      endpoints: [...s.endpoints],
      windowStart: s.times[0]!,
      detectedTs: e.ts,
      firstEventTs: s.first,
      lastEventTs: e.ts,
      requests: 1,
      score: evidenceScore,
      confidence: Math.min(1, s.times.length / 10),
      evidence: s.reported ? evidence.slice(0, 1) : evidence,
      explanation: `${actor.kind} ${actor.value} sent ${s.times.length} requests in an hour that fail the learned parameter profiles (combined evidence ${evidenceScore.toFixed(2)})${top === undefined ? '' : ` (e.g. ${top.param}: ${top.observed}, expected ${top.expected})`}.`,
    });
    s.reported = true;
    s.reasons = [];
  }
}
