import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Incident } from '../detect/incidents.js';
import {
  backoffMs,
  type Channel,
  DEFAULT_DELIVERY,
  decisionEvent,
  deliveryId,
  incidentEvent,
  Notifier,
  notificationsSchema,
  parseNotifications,
  resolveChannels,
  retryAfterMs,
  sign,
  slackPayload,
  verifySignature,
} from './notify.js';
import { codeText, duration, escapeMrkdwn, safeText, slackSummary } from './notify-format.js';
import type { Decision } from './types.js';

const HOSTILE = '<!channel> <http://x|y> & *bold*';
const SECRET = 'test-secret-0123456789abcdef';

const incident = (over: Partial<Incident> = {}): Incident => ({
  id: 'inc-0123456789abcdef',
  type: 'credential_stuffing',
  types: ['credential_stuffing'],
  severity: 'high',
  score: 0.93,
  confidence: 0.8,
  status: 'new',
  actors: [
    { kind: 'ip', value: '203.0.113.7' },
    { kind: 'user', value: 'alice' },
  ],
  endpoints: ['POST /api/v1/auth/login'],
  firstEventTs: 1_700_000_000_000,
  detectedTs: 1_700_000_060_000,
  lastEventTs: 1_700_000_300_000,
  requests: 412,
  alerts: ['alert-1'],
  evidence: [],
  explanation: '412 failed logins for 180 accounts in 5 min',
  ...over,
});

const decision = (over: Partial<Decision> = {}): Decision => ({
  id: 'dec-0123456789abcdef',
  action: 'block',
  scope: { kind: 'user', value: 'alice', endpoint: 'POST /api/v1/auth/login' },
  status: 'active',
  origin: 'auto',
  incidentId: 'inc-0123456789abcdef',
  type: 'credential_stuffing',
  severity: 'high',
  reason: 'credential stuffing from 203.0.113.7',
  createdTs: 1_700_000_000_000,
  expiresTs: 1_700_003_600_000,
  offence: 2,
  ...over,
});

const channel = (over: Record<string, unknown> = {}): Channel => {
  const cfg = notificationsSchema.parse({
    channels: [{ name: 'hook', kind: 'webhook', url: 'http://127.0.0.1:9/x', secret: SECRET, ...over }],
  });
  const r = resolveChannels(cfg, {});
  if (!r.ok) throw new Error(r.error.join('\n'));
  return r.value[0]!;
};

describe('notificationsSchema', () => {
  it('fills the documented defaults', () => {
    const n = notificationsSchema.parse({
      channels: [{ name: 's', kind: 'slack', url: 'https://hooks.slack.com/x' }],
    });
    expect(n).toMatchObject({
      attempts: 4,
      baseDelayMs: 1000,
      maxDelayMs: 30_000,
      timeoutMs: 10_000,
      concurrency: 2,
      maxQueue: 1000,
    });
    expect(n.channels[0]).toEqual({
      name: 's',
      kind: 'slack',
      url: 'https://hooks.slack.com/x',
      minSeverity: 'low',
      events: ['incident.new', 'incident.updated', 'decision.new', 'decision.expired', 'decision.revoked'],
      types: [],
    });
    expect(notificationsSchema.parse({}).channels).toEqual([]);
    const { channels: _, ...d } = notificationsSchema.parse({});
    expect(DEFAULT_DELIVERY).toEqual(d);
  });

  it('names the field and the fix for each mistake', () => {
    const r = parseNotifications({
      channels: [
        { name: 'a', kind: 'webhook', url: 'https://h.example/x' },
        { name: 'b', kind: 'webhook', url: 'ftp://h.example/x', urlEnv: 'X', secret: 'short' },
        { name: 'a', kind: 'slack', url: 'https://u:p@h.example/x', secretEnv: 'S' },
        { name: 'd', kind: 'slack' },
        { name: 'e', kind: 'slack', urlEnv: 'not a var', events: ['incident.created'], minSeverity: 'huge' },
        { name: 'f', kind: 'slack', url: 'https://h.example', channel: '#sec' },
      ],
    });
    expect(r.ok).toBe(false);
    const lines = r.ok ? [] : r.error;
    const expected = [
      'notifications.channels[0]: is a webhook without a signing secret; add secretEnv',
      'notifications.channels[1].secret: expected at least 16 characters',
      'notifications.channels[1].urlEnv: give either url or urlEnv, not both',
      'notifications.channels[1].url: expected an http:// or https:// URL',
      'notifications.channels[2].url: expected a URL without user:password@',
      'notifications.channels[2].secretEnv: slack messages are not signed',
      'notifications.channels[3]: says nowhere to send to',
      'notifications.channels[4].urlEnv: expected an environment variable name',
      'notifications.channels[4].events[0]: expected one of incident.new, incident.updated',
      'notifications.channels[4].minSeverity: expected one of low, medium, high, critical',
      "unknown key 'channel' in notifications.channels[5] (valid: name, kind, url, urlEnv, secret, secretEnv, minSeverity, events, types)",
    ];
    for (const e of expected)
      expect(
        lines.some((l) => l.startsWith(e)),
        `${e}\n in\n${lines.join('\n')}`,
      ).toBe(true);
  });

  it('lists the valid keys of the section', () => {
    const r = parseNotifications({ retries: 3 });
    expect(r.ok ? [] : r.error).toEqual([
      "unknown key 'retries' in notifications (valid: channels, attempts, baseDelayMs, maxDelayMs, timeoutMs, concurrency, maxQueue)",
    ]);
  });

  it('refuses duplicate names and a maximum delay below the base (once the channels are valid)', () => {
    const r = parseNotifications({
      maxDelayMs: 10,
      baseDelayMs: 100,
      channels: [
        { name: 'a', kind: 'slack', url: 'https://h.example/1' },
        { name: 'a', kind: 'slack', url: 'https://h.example/2' },
      ],
    });
    expect(r.ok ? [] : r.error).toEqual([
      "notifications.channels[1].name: 'a' is used twice; give each channel its own name",
      'notifications.maxDelayMs: must be at least baseDelayMs (100)',
    ]);
  });
});

describe('resolveChannels', () => {
  const cfg = notificationsSchema.parse({
    channels: [
      { name: 'hook', kind: 'webhook', url: 'https://h.example/x', secretEnv: 'HOOK_SECRET' },
      { name: 'slack', kind: 'slack', urlEnv: 'SLACK_URL' },
    ],
  });

  it('reads secrets and URLs from the environment', () => {
    const r = resolveChannels(cfg, {
      HOOK_SECRET: SECRET,
      SLACK_URL: 'https://hooks.slack.com/services/T/B/C',
    });
    expect(r.ok).toBe(true);
  });

  it('names the variable, never its value', () => {
    const r = resolveChannels(cfg, { HOOK_SECRET: 'tooshort', SLACK_URL: 'javascript:alert(1)//secretpart' });
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.error.join('\n');
    expect(text).toContain('notifications.channels[0].secretEnv: HOOK_SECRET holds fewer than 16 characters');
    expect(text).toContain(
      'notifications.channels[1].urlEnv: SLACK_URL does not hold an http:// or https:// URL',
    );
    expect(text).not.toContain('tooshort');
    expect(text).not.toContain('secretpart');
    const missing = resolveChannels(cfg, {});
    expect(missing.ok ? [] : missing.error).toEqual([
      'notifications.channels[0].secretEnv: HOOK_SECRET is not set in the environment; export the signing secret',
      'notifications.channels[1].urlEnv: SLACK_URL is not set in the environment; export it',
    ]);
  });

  it('keeps the secret and the URL out of JSON and inspect', () => {
    const r = resolveChannels(cfg, {
      HOOK_SECRET: SECRET,
      SLACK_URL: 'https://hooks.slack.com/services/T/B/TOKEN',
    });
    if (!r.ok) throw new Error('unexpected');
    const n = new Notifier(r.value);
    for (const shown of [JSON.stringify(r.value), inspect(r.value, { depth: 9 }), inspect(n, { depth: 9 })]) {
      expect(shown).not.toContain(SECRET);
      expect(shown).not.toContain('TOKEN');
    }
  });
});

describe('channel filters', () => {
  it('applies event kinds, minimum severity and anomaly types', () => {
    const c = channel({
      minSeverity: 'high',
      events: ['incident.new', 'decision.new'],
      types: ['enumeration'],
    });
    const enumeration = incident({
      type: 'credential_stuffing',
      types: ['credential_stuffing', 'enumeration'],
    });
    expect(c.accepts(incidentEvent(enumeration))).toBe(true);
    expect(c.accepts(incidentEvent(enumeration, 'incident.updated'))).toBe(false);
    expect(c.accepts(incidentEvent({ ...enumeration, severity: 'medium' }))).toBe(false);
    expect(c.accepts(incidentEvent({ ...enumeration, severity: 'critical' }))).toBe(true);
    expect(c.accepts(incidentEvent(incident({ types: ['credential_stuffing'] })))).toBe(false);
    expect(c.accepts(decisionEvent(decision({ type: 'enumeration' })))).toBe(true);
    expect(c.accepts(decisionEvent(decision({ type: 'enumeration' }), 'decision.expired'))).toBe(false);
  });

  it('treats a missing severity or type as not matching a filter that is set', () => {
    const { severity: _, type: __, ...bare } = decision();
    expect(channel().accepts(decisionEvent(bare))).toBe(true);
    expect(channel({ minSeverity: 'medium' }).accepts(decisionEvent(bare))).toBe(false);
    expect(channel({ types: ['enumeration'] }).accepts(decisionEvent(bare))).toBe(false);
  });
});

describe('delivery ids', () => {
  it('are deterministic per channel, event and content', () => {
    const e = incidentEvent(incident());
    expect(deliveryId('hook', e)).toMatch(/^dlv-[0-9a-f]{32}$/);
    expect(deliveryId('hook', e)).toBe(deliveryId('hook', incidentEvent(incident())));
    // Key order does not matter; content does.
    const reordered = Object.fromEntries(Object.entries(incident()).reverse()) as unknown as Incident;
    expect(deliveryId('hook', incidentEvent(reordered))).toBe(deliveryId('hook', e));
    expect(deliveryId('other', e)).not.toBe(deliveryId('hook', e));
    expect(deliveryId('hook', incidentEvent(incident(), 'incident.updated'))).not.toBe(deliveryId('hook', e));
    expect(deliveryId('hook', incidentEvent(incident({ requests: 413 })))).not.toBe(deliveryId('hook', e));
  });
});

describe('verifySignature', () => {
  const body = '{"event":"incident.new","id":"dlv-1","ts":1,"data":{}}';
  const ts = 1_700_000_000_000;
  const sig = sign(SECRET, ts, body);

  it('accepts the right secret, body and a fresh timestamp', () => {
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, String(ts), body, sig, ts + 1000)).toBe(true);
    expect(
      verifySignature(SECRET, ts, Buffer.from(body), sig.toUpperCase().replace('SHA256=', 'sha256='), ts),
    ).toBe(true);
  });

  it('refuses a wrong secret, an altered body, an old or future timestamp and malformed headers', () => {
    expect(verifySignature('another-secret-0123456789', ts, body, sig, ts)).toBe(false);
    expect(verifySignature(SECRET, ts, body.replace('incident.new', 'incident.updated'), sig, ts)).toBe(
      false,
    );
    expect(verifySignature(SECRET, ts + 1, body, sig, ts)).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig, ts + 300_001)).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig, ts - 300_001)).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig, ts + 60_000, 30_000)).toBe(false);
    expect(verifySignature(SECRET, `${ts}.5`, body, sig, ts)).toBe(false);
    expect(verifySignature(SECRET, undefined, body, sig, ts)).toBe(false);
    expect(verifySignature(SECRET, ts, body, null, ts)).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig.slice(0, -2), ts)).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig.replace('sha256=', 'sha1='), ts)).toBe(false);
    expect(verifySignature('', ts, body, sign('', ts, body), ts)).toBe(false);
  });
});

describe('Slack formatting', () => {
  it('escapes &, < and > so traffic cannot ping or link', () => {
    expect(escapeMrkdwn(HOSTILE)).toBe('&lt;!channel&gt; &lt;http://x|y&gt; &amp; *bold*');
    expect(codeText(HOSTILE, 100)).toBe('`&lt;!channel&gt; &lt;http://x|y&gt; &amp; *bold*`');
    expect(codeText('a`b', 10)).toBe("`a'b`");
    expect(codeText('', 10)).toBe('(empty)');
  });

  it('strips control and bidi characters and cuts without splitting an entity or a code point', () => {
    expect(safeText('alice\n*fake line*\u202eevil\u0000', 100)).toBe('alice *fake line* evil');
    const cut = safeText('<'.repeat(50), 22);
    expect(cut).toBe(`${'&lt;'.repeat(5)}…`);
    expect(cut.length).toBeLessThanOrEqual(22);
    expect(safeText('😀'.repeat(10), 5)).toBe('😀😀…');
  });

  it('summarises an incident on one line: severity, type, actor count, first actors, endpoints, explanation', () => {
    const actors = [
      { kind: 'user' as const, value: HOSTILE },
      { kind: 'ip' as const, value: '203.0.113.7' },
      { kind: 'ip' as const, value: '203.0.113.8' },
      { kind: 'ip' as const, value: '203.0.113.9' },
    ];
    const line = slackSummary(incidentEvent(incident({ actors, explanation: `logins by ${HOSTILE}` })));
    expect(line).toBe(
      'New incident [HIGH] credential_stuffing: 4 actors (user `&lt;!channel&gt; &lt;http://x|y&gt; &amp; *bold*`, ' +
        'ip `203.0.113.7`, ip `203.0.113.8`, +1 more) on `POST /api/v1/auth/login` — ' +
        'logins by &lt;!channel&gt; &lt;http://x|y&gt; &amp; *bold*',
    );
    expect(line).not.toMatch(/[<>]/);
  });

  it('truncates long attacker strings', () => {
    const p = slackPayload(
      incidentEvent(
        incident({
          actors: [{ kind: 'user', value: 'x'.repeat(10_000) }],
          endpoints: Array.from({ length: 50 }, (_, i) => `GET /${'y'.repeat(500)}/${i}`),
          explanation: '&'.repeat(10_000),
        }),
      ),
    );
    expect(p.text.length).toBeLessThan(1000);
    expect(p.text).toContain('+47 more');
    for (const b of p.blocks) {
      const texts = b.type === 'section' ? [b.text, ...(b.fields ?? [])] : b.elements;
      for (const t of texts) {
        expect(t.text.length).toBeLessThanOrEqual(3000);
        expect(t).toMatchObject({ type: 'mrkdwn', verbatim: true });
      }
    }
  });

  it('shows a decision with action, scope and TTL', () => {
    expect(slackSummary(decisionEvent(decision()))).toBe(
      'New decision [HIGH] block user `alice` on `POST /api/v1/auth/login`, TTL 60 min (offence 2, auto, active) — ' +
        'credential stuffing from 203.0.113.7',
    );
    const rl = decision({
      action: 'rate_limit',
      rateLimit: { requests: 10, perSeconds: 60 },
      scope: { kind: 'ip', value: '203.0.113.7' },
      expiresTs: null,
      severity: undefined,
    });
    expect(slackSummary(decisionEvent(rl, 'decision.revoked'))).toBe(
      'Decision revoked rate_limit (10 req / 60 s) ip `203.0.113.7`, TTL until revoked (offence 2, auto, active) — ' +
        'credential stuffing from 203.0.113.7',
    );
    const p = slackPayload(decisionEvent(decision(), 'decision.expired'));
    expect(p.blocks[0]).toMatchObject({
      type: 'section',
      text: { text: '*Decision expired* · *HIGH* · block' },
    });
    const fields = p.blocks[0]!.type === 'section' ? (p.blocks[0]!.fields ?? []).map((f) => f.text) : [];
    expect(fields).toContain('*TTL*\n60 min (until 2023-11-14T23:13:20Z)');
    expect(fields).toContain('*Scope*\nuser `alice` on `POST /api/v1/auth/login`');
  });

  it('formats durations', () => {
    expect([45_000, 1_800_000, 7_200_000, 108_000_000, 367_200_000, 172_800_000].map(duration)).toEqual([
      '45 s',
      '30 min',
      '2 h',
      '30 h',
      '4 d 6 h',
      '2 d',
    ]);
  });
});

describe('back-off', () => {
  it('doubles from the base with jitter between half and all, capped', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 100, 350, () => 0))).toEqual([50, 100, 175, 175]);
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 100, 350, () => 1))).toEqual([100, 200, 350, 350]);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2024-05-01T10:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Wed, 01 May 2024 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 01 May 2024 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
