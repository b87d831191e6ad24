/**
 * Response policy (config `response`, docs/operations.md): which incidents get which decision, applied
 * automatically or waiting for approval; TTLs and escalation for repeat offenders; allow-lists; dry-run.
 *
 * A rule matches an incident by type and minimum severity (first match wins) and says what to do to which of
 * its actors. By default the actors are addresses, devices and tokens, never user accounts: the accounts in a
 * credential-stuffing incident are its victims. Rate limits take the profile's learned per-endpoint limit when
 * there is one. A repeat offender (an actor with earlier decisions) gets a TTL `escalation.factor` times longer
 * per earlier offence, and from `escalation.blockAfter` offences on a block instead of a rate limit or
 * challenge.
 */
import { z } from 'zod';
import { CidrSet, parseCidr } from '../core/net.js';
import { stableId } from '../detect/alerts.js';
import type { Incident } from '../detect/incidents.js';
import { type ActorRef, ANOMALY_TYPES, SEVERITIES, type Severity } from '../detect/types.js';
import { PUBLISHED_CRAWLERS } from '../enrich/crawlers.js';
import { type Profile, thresholdFor } from '../profiling/profile.js';
import {
  DECISION_ACTIONS,
  type Decision,
  type DecisionAction,
  type DecisionScope,
  type RateLimit,
  type ScopeKind,
} from './types.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `7d` → ms; null when not a duration. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(s.trim());
  if (m === null) return null;
  const v = Number(m[1]) * UNITS[m[2]!]!;
  return Number.isFinite(v) && v > 0 ? Math.round(v) : null;
}

const duration = z.string().transform((s, ctx) => {
  const v = parseDuration(s);
  if (v === null) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 30m, 1h or 7d, got '${s}'` });
    return z.NEVER;
  }
  return v;
});

const cidr = z.string().refine((s) => parseCidr(s) !== null, {
  message: 'expected an IP address or CIDR such as 10.0.0.0/8 or 2001:db8::/32',
});

const ACTOR_SCOPES = ['ip', 'device', 'token', 'user'] as const;

export const responseRuleSchema = z.strictObject({
  /** Incident types the rule covers (default: every type). */
  types: z
    .array(z.enum(ANOMALY_TYPES, { message: `expected one of ${ANOMALY_TYPES.join(', ')}` }))
    .min(1)
    .optional(),
  minSeverity: z.enum(SEVERITIES, { message: `expected one of ${SEVERITIES.join(', ')}` }).default('low'),
  action: z.enum(DECISION_ACTIONS, { message: `expected one of ${DECISION_ACTIONS.join(', ')}` }),
  /** Which of the incident's actors the decision applies to. */
  actors: z
    .array(z.enum(ACTOR_SCOPES, { message: `expected one of ${ACTOR_SCOPES.join(', ')}` }))
    .min(1)
    .default(['ip', 'device', 'token']),
  /** Only on the incident's endpoints (one decision per actor and endpoint). */
  perEndpoint: z.boolean().default(false),
  ttl: duration.prefault('1h'),
  /** Applied automatically (true) or proposed, waiting for approval (false). */
  auto: z.boolean().default(false),
  /** For rate_limit when the profile has no learned limit for the endpoint. */
  rateLimit: z
    .strictObject({
      requests: z.number().int().positive(),
      perSeconds: z.number().int().positive().max(86_400).default(60),
    })
    .optional(),
});

export const allowSchema = z.strictObject({
  cidrs: z.array(cidr).default([]),
  users: z.array(z.string().min(1)).default([]),
  tokens: z
    .array(
      z.string().regex(/^[0-9a-f]{16}$/, { message: 'expected a 16-hex token id as apiwarden shows it' }),
    )
    .default([]),
  devices: z.array(z.string().min(1)).default([]),
  /** Never act on the published address ranges of search-engine crawlers (Googlebot, Bingbot). */
  verifiedCrawlers: z.boolean().default(true),
  /**
   * Also never act on addresses that forward-confirmed reverse DNS proves to be a search-engine crawler
   * (googlebot.com, google.com, search.msn.com). Off by default: it asks DNS about every address a decision
   * would touch.
   */
  crawlersByDns: z.boolean().default(false),
});

const DEFAULT_RULES = [
  { types: ['data_exfiltration'], minSeverity: 'high', action: 'block', ttl: '24h' },
  { types: ['credential_stuffing', 'otp_abuse'], action: 'challenge', perEndpoint: true },
  { types: ['crawler', 'high_frequency'], action: 'rate_limit', perEndpoint: true },
  { minSeverity: 'medium', action: 'block' },
];

export const responseSchema = z.strictObject({
  /** Decide and record, never apply: every decision stays proposed. */
  dryRun: z.boolean().default(false),
  /** Ordered; the first rule that matches an incident decides. */
  rules: z
    .array(responseRuleSchema)
    .max(256)
    .prefault(DEFAULT_RULES as never),
  escalation: z
    .strictObject({
      /** TTL multiplier per earlier offence. */
      factor: z.number().min(1).max(100).default(4),
      /** From this offence on (2 = the second), rate limits and challenges become blocks. */
      blockAfter: z.number().int().min(2).max(1000).default(3),
      /** How far back earlier decisions count. */
      lookback: duration.prefault('30d'),
      maxTtl: duration.prefault('30d'),
    })
    .prefault({}),
  allow: allowSchema.default(allowSchema.parse({})),
  /** Request header that carries the device id, for exporters (default x-device-id). */
  deviceHeader: z.string().min(1).default('x-device-id'),
});

export type ResponsePolicy = z.infer<typeof responseSchema>;
export type ResponseRule = z.infer<typeof responseRuleSchema>;
export const defaultPolicy = (): ResponsePolicy => responseSchema.parse({});

/** An allow-list entry recorded in the state (from a false positive or by hand). */
export interface AllowEntry {
  kind: ScopeKind;
  value: string;
  reason: string;
  by: string;
  ts: number;
  incidentId?: string;
}

/** Is this actor allow-listed (config, recorded entries, verified crawler ranges)? Returns why, or null. */
export class AllowList {
  private readonly cidrs: { why: string; set: CidrSet }[] = [];
  private readonly exact = new Map<string, string>();
  private readonly crawlers: boolean;
  /** Addresses proven by reverse DNS to be crawlers (see `proveCrawlers`). */
  private readonly dnsCrawlers = new Map<string, string>();

  constructor(policy: ResponsePolicy, entries: readonly AllowEntry[] = []) {
    for (const c of policy.allow.cidrs) this.addCidr(c, `config allow.cidrs ${c}`);
    for (const u of policy.allow.users) this.exact.set(`user:${u}`, 'config allow.users');
    for (const t of policy.allow.tokens) this.exact.set(`token:${t}`, 'config allow.tokens');
    for (const d of policy.allow.devices) this.exact.set(`device:${d}`, 'config allow.devices');
    for (const e of entries) {
      const why = `allow-listed${e.incidentId === undefined ? '' : ` after ${e.incidentId}`}: ${e.reason}`;
      if (e.kind === 'cidr') this.addCidr(e.value, why);
      else this.exact.set(`${e.kind}:${e.value}`, why);
    }
    this.crawlers = policy.allow.verifiedCrawlers;
  }

  private addCidr(c: string, why: string): void {
    if (parseCidr(c) !== null) this.cidrs.push({ why, set: new CidrSet([c]) });
  }

  /** Records the addresses a reverse-DNS check proved to be crawlers (host names as evidence). */
  addDnsCrawlers(found: ReadonlyMap<string, { crawler: string; host: string }>): void {
    for (const [ip, v] of found) this.dnsCrawlers.set(ip, `${v.crawler} by reverse DNS (${v.host})`);
  }

  why(a: { kind: string; value: string }): string | null {
    const hit = this.exact.get(`${a.kind}:${a.value}`);
    if (hit !== undefined) return hit;
    if (a.kind === 'ip') {
      for (const c of this.cidrs) if (c.set.has(a.value)) return c.why;
      const dns = this.dnsCrawlers.get(a.value);
      if (dns !== undefined) return dns;
      if (this.crawlers)
        for (const spec of publishedCrawlers())
          if (spec.set.has(a.value)) return `published ${spec.name} range`;
    }
    return null;
  }
}

let crawlerSets: { name: string; set: CidrSet }[] | null = null;
function publishedCrawlers(): { name: string; set: CidrSet }[] {
  if (crawlerSets === null)
    crawlerSets = PUBLISHED_CRAWLERS.map((s) => ({ name: s.name, set: new CidrSet(s.ranges) }));
  return crawlerSets;
}

const sevRank = (s: Severity) => SEVERITIES.indexOf(s);

/** The first rule that matches the incident, or undefined. */
export function ruleFor(policy: ResponsePolicy, inc: Incident): ResponseRule | undefined {
  return policy.rules.find(
    (r) =>
      sevRank(inc.severity) >= sevRank(r.minSeverity) &&
      (r.types === undefined || r.types.includes(inc.type)),
  );
}

export interface DecideContext {
  profile?: Profile | null;
  /** Earlier decisions (any status), for escalation and idempotence. */
  history: readonly Decision[];
  allow: AllowList;
  /** Wall-clock time of the decision (ms epoch). */
  now: number;
  /** scenario of an endpoint, for the profile's cold-start limits ('' when unknown). */
  scenarioOf?: (endpoint: string) => string;
}

export interface Decided {
  decisions: Decision[];
  /** Actors left alone, with why (allow-listed, already decided, user accounts not in the rule). */
  skipped: { actor: ActorRef; reason: string }[];
}

/** The rate limit for an endpoint: the profile's learned per-IP limit per minute, else the rule's. */
export function rateLimitFor(
  rule: ResponseRule,
  endpoint: string | undefined,
  profile: Profile | null | undefined,
  scenarioOf: (endpoint: string) => string = () => '',
): RateLimit {
  if (profile && endpoint !== undefined) {
    const t = thresholdFor(profile, 'rpm_by_ip_endpoint', endpoint, scenarioOf(endpoint));
    if (t !== null && t.threshold > 0)
      return { requests: Math.max(1, Math.ceil(t.threshold)), perSeconds: 60 };
  }
  return rule.rateLimit ?? { requests: 60, perSeconds: 60 };
}

/** The decisions the policy takes on an incident (none when no rule matches). */
export function decide(policy: ResponsePolicy, inc: Incident, ctx: DecideContext): Decided {
  const out: Decided = { decisions: [], skipped: [] };
  const rule = ruleFor(policy, inc);
  if (rule === undefined) return out;
  const known = new Set(ctx.history.map((d) => d.id));
  const endpoints: (string | undefined)[] =
    rule.perEndpoint && inc.endpoints.length > 0 ? inc.endpoints : [undefined];
  for (const actor of inc.actors) {
    if (!(rule.actors as readonly string[]).includes(actor.kind)) {
      out.skipped.push({ actor, reason: `the rule does not act on ${actor.kind} actors` });
      continue;
    }
    const allowed = ctx.allow.why(actor);
    if (allowed !== null) {
      out.skipped.push({ actor, reason: allowed });
      continue;
    }
    const offences = earlierOffences(ctx.history, actor, ctx.now - policy.escalation.lookback, inc.id);
    const offence = offences + 1;
    let action: DecisionAction = rule.action;
    if (action !== 'block' && offence >= policy.escalation.blockAfter) action = 'block';
    const ttl = Math.min(policy.escalation.maxTtl, rule.ttl * policy.escalation.factor ** offences);
    for (const endpoint of endpoints) {
      const scope: DecisionScope = {
        kind: actor.kind,
        value: actor.value,
        ...(endpoint === undefined ? {} : { endpoint }),
      };
      const id = stableId('dec', inc.id, action, scope.kind, scope.value, endpoint ?? '');
      if (known.has(id)) {
        out.skipped.push({ actor, reason: `already decided (${id})` });
        continue;
      }
      const auto = rule.auto && !policy.dryRun;
      out.decisions.push({
        id,
        action,
        scope,
        ...(action === 'rate_limit'
          ? { rateLimit: rateLimitFor(rule, endpoint, ctx.profile, ctx.scenarioOf) }
          : {}),
        status: auto ? 'active' : 'proposed',
        origin: auto ? 'auto' : 'manual',
        incidentId: inc.id,
        type: inc.type,
        severity: inc.severity,
        reason: `${inc.severity} ${inc.type} incident ${inc.id}${offence > 1 ? `; offence ${offence} (escalated)` : ''}${policy.dryRun ? '; dry run' : ''}`,
        createdTs: ctx.now,
        expiresTs: ctx.now + ttl,
        offence,
      });
    }
  }
  return out;
}

/** Earlier incidents that brought decisions on this actor (revoked ones do not count). */
function earlierOffences(
  history: readonly Decision[],
  a: ActorRef,
  since: number,
  incidentId: string,
): number {
  const incidents = new Set<string>();
  for (const d of history)
    if (
      d.scope.kind === a.kind &&
      d.scope.value === a.value &&
      d.status !== 'revoked' &&
      d.createdTs >= since &&
      d.incidentId !== incidentId
    )
      incidents.add(d.incidentId ?? d.id);
  return incidents.size;
}
