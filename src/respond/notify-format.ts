/**
 * What notifications look like on the wire (docs/notifications.md), as pure functions, so that both ends can
 * be tested without a network: the webhook envelope and its deterministic delivery id, the HMAC signature and
 * its verification (for receivers written in TypeScript), and the Slack message.
 *
 * Everything that comes from traffic — actor values such as user names and device ids, endpoints, and the
 * explanations that quote them — is attacker-controlled. In Slack mrkdwn `<!channel>` pings a whole channel
 * and `<http://evil|click here>` is a disguised link, so these strings are stripped of control and
 * bidirectional-override characters, cut to a sane length and have `&`, `<`, `>` replaced by entities
 * before they reach a message; text objects are sent `verbatim` so Slack does not auto-link or parse them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Incident } from '../detect/incidents.js';
import type { ActorRef } from '../detect/types.js';
import type { Decision } from './types.js';

export const INCIDENT_EVENTS = ['incident.new', 'incident.updated'] as const;
export const DECISION_EVENTS = ['decision.new', 'decision.expired', 'decision.revoked'] as const;
export const NOTIFY_EVENTS = [...INCIDENT_EVENTS, ...DECISION_EVENTS] as const;
export type IncidentEventKind = (typeof INCIDENT_EVENTS)[number];
export type DecisionEventKind = (typeof DECISION_EVENTS)[number];
export type NotifyEventKind = (typeof NOTIFY_EVENTS)[number];

/** Something to tell the channels about. */
export type NotifyEvent =
  | { event: IncidentEventKind; incident: Incident }
  | { event: DecisionEventKind; decision: Decision };

export const incidentEvent = (
  incident: Incident,
  event: IncidentEventKind = 'incident.new',
): NotifyEvent => ({
  event,
  incident,
});
export const decisionEvent = (
  decision: Decision,
  event: DecisionEventKind = 'decision.new',
): NotifyEvent => ({
  event,
  decision,
});

/** The object an event is about. */
export const eventData = (e: NotifyEvent): Incident | Decision => ('incident' in e ? e.incident : e.decision);

/** The JSON body of a webhook delivery. */
export interface Envelope {
  event: NotifyEventKind;
  /** The delivery id, also in `x-apiwarden-delivery`: the same for every attempt and every re-run. */
  id: string;
  /** ms epoch at which the notification was produced (the same for every attempt). */
  ts: number;
  data: Incident | Decision;
}

/** JSON with object keys sorted at every level, so equal content always hashes the same. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

/**
 * `dlv-` and 32 hex of SHA-256 over the channel, the event kind and the object's content: retries and re-runs
 * over the same logs repeat the id (so a receiver can drop duplicates), and any change to the incident or
 * decision (more requests, a new status) gives a new one.
 */
export function deliveryId(channel: string, e: NotifyEvent): string {
  const h = createHash('sha256').update(`${channel}\u001f${e.event}\u001f${canonical(eventData(e))}`);
  return `dlv-${h.digest('hex').slice(0, 32)}`;
}

export function envelope(channel: string, e: NotifyEvent, ts: number): Envelope {
  return { event: e.event, id: deliveryId(channel, e), ts, data: eventData(e) };
}

// ---------------------------------------------------------------------------------------------------------
// Signatures

export const SIGNATURE_PREFIX = 'sha256=';
/** The replay window `verifySignature` allows by default: 5 minutes either side of the receiver's clock. */
export const DEFAULT_TOLERANCE_MS = 300_000;

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` under the channel's secret. */
export function sign(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body);
  return `${SIGNATURE_PREFIX}${mac.digest('hex')}`;
}

/**
 * The receiver's check: `timestamp` is the `x-apiwarden-timestamp` header (ms epoch), `body` the raw bytes
 * as received (not re-serialised JSON), `signature` the `x-apiwarden-signature` header. True only when the
 * timestamp is within `toleranceMs` of `now` (either side: old deliveries cannot be replayed later) and the
 * HMAC matches, compared in constant time.
 */
export function verifySignature(
  secret: string,
  timestamp: string | number | null | undefined,
  body: string | Uint8Array,
  signature: string | null | undefined,
  now: number,
  toleranceMs: number = DEFAULT_TOLERANCE_MS,
): boolean {
  if (secret.length === 0 || timestamp === null || timestamp === undefined) return false;
  if (signature === null || signature === undefined) return false;
  const ts = String(timestamp);
  if (!/^\d{1,16}$/.test(ts) || Math.abs(now - Number(ts)) > toleranceMs) return false;
  const m = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
  if (m === null) return false;
  const expected = Buffer.from(sign(secret, ts, body).slice(SIGNATURE_PREFIX.length), 'hex');
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

// ---------------------------------------------------------------------------------------------------------
// Slack

/** Replaces `&`, `<` and `>` by entities: the only characters Slack mrkdwn needs escaped. */
export const escapeMrkdwn = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// Control characters (a newline in a user name would forge a line), and bidirectional overrides and
// zero-width characters (which make a value read differently from what it is).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+/g;

/**
 * Attacker-controlled text made safe for mrkdwn: unsafe characters become a space, and the escaped result
 * is at most `max` characters (cut at a code point, never inside an entity, with `…`).
 */
export function safeText(s: string, max: number): string {
  const clean = s.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  const whole = escapeMrkdwn(clean);
  if (whole.length <= max) return whole;
  let out = '';
  for (const ch of clean) {
    const e = escapeMrkdwn(ch);
    if (out.length + e.length > max - 1) break;
    out += e;
  }
  return `${out}…`;
}

/** As `safeText`, in an inline code span (so `*`, `_`, `~` do not format); a backtick would end it. */
export const codeText = (s: string, max: number): string => {
  const t = safeText(s.replace(/`/g, "'"), max);
  return t === '' ? '(empty)' : `\`${t}\``;
};

/** Lengths (after escaping) of the attacker-controlled parts of a message. */
export const SLACK_LIMITS = {
  actor: 64,
  endpoint: 100,
  /** Explanation or reason in the one-line summary. */
  lineText: 300,
  /** Explanation or reason in its own block. */
  blockText: 1500,
  /** Actors and endpoints named in the one-line summary / in the blocks. */
  lineItems: 3,
  blockItems: 8,
} as const;

export interface SlackText {
  type: 'mrkdwn';
  text: string;
  verbatim: true;
}
export type SlackBlock =
  | { type: 'section'; text: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] };

/** A Slack (or Slack-compatible: Mattermost, Rocket.Chat) incoming-webhook message. */
export interface SlackMessage {
  /** The one-line summary: what notifications and clients without blocks show. */
  text: string;
  blocks: SlackBlock[];
  unfurl_links: false;
  unfurl_media: false;
}

const md = (text: string): SlackText => ({ type: 'mrkdwn', text, verbatim: true });

const actorText = (a: ActorRef, max: number) => `${a.kind} ${codeText(a.value, max)}`;

/** The first `n` items, then `+k more`. */
function list<T>(items: readonly T[], n: number, show: (x: T) => string): string {
  const shown = items.slice(0, n).map(show);
  if (items.length > n) shown.push(`+${items.length - n} more`);
  return shown.join(', ');
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `45 s`, `30 min`, `2 h`, `1 d 6 h`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.round(s / 3600);
  if (h < 48) return `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

const iso = (ts: number) => new Date(ts).toISOString().replace('.000Z', 'Z');

const LABELS: Record<NotifyEventKind, string> = {
  'incident.new': 'New incident',
  'incident.updated': 'Incident updated',
  'decision.new': 'New decision',
  'decision.expired': 'Decision expired',
  'decision.revoked': 'Decision revoked',
};

function incidentLine(e: NotifyEvent & { incident: Incident }): string {
  const i = e.incident;
  const L = SLACK_LIMITS;
  const more = i.types.filter((t) => t !== i.type);
  const type = more.length > 0 ? `${i.type} (+${more.join(', ')})` : i.type;
  const actors = `${plural(i.actors.length, 'actor')} (${list(i.actors, L.lineItems, (a) => actorText(a, L.actor))})`;
  const on =
    i.endpoints.length > 0 ? ` on ${list(i.endpoints, L.lineItems, (p) => codeText(p, L.endpoint))}` : '';
  return `${LABELS[e.event]} [${i.severity.toUpperCase()}] ${type}: ${actors}${on} — ${safeText(i.explanation, L.lineText)}`;
}

const ttlText = (d: Decision) =>
  d.expiresTs === null ? 'until revoked' : duration(d.expiresTs - d.createdTs);

function actionText(d: Decision): string {
  const rl = d.rateLimit;
  return rl ? `${d.action} (${rl.requests} req / ${duration(rl.perSeconds * 1000)})` : d.action;
}

function scopeText(d: Decision): string {
  const L = SLACK_LIMITS;
  const on = d.scope.endpoint !== undefined ? ` on ${codeText(d.scope.endpoint, L.endpoint)}` : '';
  return `${d.scope.kind} ${codeText(d.scope.value, L.actor)}${on}`;
}

function decisionLine(e: NotifyEvent & { decision: Decision }): string {
  const d = e.decision;
  const sev = d.severity !== undefined ? ` [${d.severity.toUpperCase()}]` : '';
  return (
    `${LABELS[e.event]}${sev} ${actionText(d)} ${scopeText(d)}, TTL ${ttlText(d)} ` +
    `(offence ${d.offence}, ${d.origin}, ${d.status}) — ${safeText(d.reason, SLACK_LIMITS.lineText)}`
  );
}

/** The one-line summary of an event, escaped for mrkdwn. */
export function slackSummary(e: NotifyEvent): string {
  return 'incident' in e ? incidentLine(e) : decisionLine(e);
}

function incidentBlocks(e: NotifyEvent & { incident: Incident }): SlackBlock[] {
  const i = e.incident;
  const L = SLACK_LIMITS;
  const types = i.types.length > 0 ? i.types.join(', ') : i.type;
  const blocks: SlackBlock[] = [
    { type: 'section', text: md(`*${LABELS[e.event]}* · *${i.severity.toUpperCase()}* · ${types}`) },
    {
      type: 'section',
      text: md(
        `*Actors* (${i.actors.length}): ${list(i.actors, L.blockItems, (a) => actorText(a, L.actor))}`,
      ),
    },
  ];
  if (i.endpoints.length > 0)
    blocks.push({
      type: 'section',
      text: md(
        `*Endpoints* (${i.endpoints.length}): ${list(i.endpoints, L.blockItems, (p) => codeText(p, L.endpoint))}`,
      ),
    });
  blocks.push(
    { type: 'section', text: md(`*Why*: ${safeText(i.explanation, L.blockText)}`) },
    {
      type: 'context',
      elements: [
        md(
          `${i.id} · ${plural(i.requests, 'request')} · score ${i.score} · confidence ${i.confidence} · ` +
            `${iso(i.firstEventTs)} – ${iso(i.lastEventTs)}`,
        ),
      ],
    },
  );
  return blocks;
}

function decisionBlocks(e: NotifyEvent & { decision: Decision }): SlackBlock[] {
  const d = e.decision;
  const sev = d.severity !== undefined ? ` · *${d.severity.toUpperCase()}*` : '';
  const expires = d.expiresTs === null ? 'until revoked' : `${ttlText(d)} (until ${iso(d.expiresTs)})`;
  const fields = [md(`*Action*\n${actionText(d)}`), md(`*Scope*\n${scopeText(d)}`), md(`*TTL*\n${expires}`)];
  fields.push(md(`*Offence*\n${d.offence} (${d.origin}, ${d.status})`));
  const context = [d.id, ...(d.incidentId !== undefined ? [d.incidentId] : []), ...(d.type ? [d.type] : [])];
  return [
    { type: 'section', text: md(`*${LABELS[e.event]}*${sev} · ${d.action}`), fields },
    { type: 'section', text: md(`*Why*: ${safeText(d.reason, SLACK_LIMITS.blockText)}`) },
    {
      type: 'context',
      elements: [md(`${context.map((x) => safeText(x, 80)).join(' · ')} · ${iso(d.createdTs)}`)],
    },
  ];
}

/** The Slack message for an event: `text` is the one-line summary, `blocks` the detail. */
export function slackPayload(e: NotifyEvent): SlackMessage {
  return {
    text: slackSummary(e),
    blocks: 'incident' in e ? incidentBlocks(e) : decisionBlocks(e),
    unfurl_links: false,
    unfurl_media: false,
  };
}
