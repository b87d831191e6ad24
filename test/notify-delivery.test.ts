/**
 * Notification delivery against real HTTP receivers on 127.0.0.1 (node:http, port 0): signatures, the Slack
 * payload, retries and back-off (with a recording sleep, so no test waits for a back-off), Retry-After,
 * timeouts, refused connections, filters, per-channel queues and flush.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../src/detect/incidents.js';
import {
  createNotifier,
  type DeliveryResult,
  decisionEvent,
  type Envelope,
  incidentEvent,
  type NotificationsInput,
  type Notifier,
  type NotifierOptions,
  notificationsSchema,
  notifyAll,
  verifySignature,
} from '../src/respond/notify.js';
import type { SlackMessage } from '../src/respond/notify-format.js';
import type { Decision } from '../src/respond/types.js';

const SECRET = 'whsec-0123456789abcdef0123';
const NOW = 1_700_000_000_000;
const HOSTILE = '<!channel> <http://x|y> & *bold*';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
/** What the receiver does with the n-th request: answer, or never answer. */
type Reply = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang';

interface Receiver {
  url: string;
  requests: Received[];
  /** Most requests being handled at once. */
  peak: number;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function receiver(replies: Reply[] | ((n: number) => Reply) = [{ status: 200 }]): Promise<Receiver> {
  const rx: Receiver = { url: '', requests: [], peak: 0 };
  let active = 0;
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = rx.requests.length;
      rx.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = typeof replies === 'function' ? replies(n) : (replies[n] ?? replies.at(-1)!);
      if (reply === 'hang') return;
      active++;
      rx.peak = Math.max(rx.peak, active);
      setTimeout(() => {
        active--;
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      }, reply.delayMs ?? 0);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  rx.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/apiwarden`;
  return rx;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}/hook`;
}

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
  firstEventTs: NOW - 300_000,
  detectedTs: NOW - 240_000,
  lastEventTs: NOW,
  requests: 412,
  alerts: ['alert-1'],
  evidence: [{ feature: 'login_failures_by_ip', value: 412, threshold: 20, source: 'profile' }],
  explanation: '412 failed logins for 180 accounts in 5 min',
  ...over,
});

const decision: Decision = {
  id: 'dec-0123456789abcdef',
  action: 'block',
  scope: { kind: 'ip', value: '203.0.113.7' },
  status: 'active',
  origin: 'auto',
  incidentId: 'inc-0123456789abcdef',
  type: 'credential_stuffing',
  severity: 'high',
  reason: 'credential stuffing',
  createdTs: NOW,
  expiresTs: NOW + 3_600_000,
  offence: 1,
};

/** A Notifier with a fixed clock and a sleep that records the back-off instead of waiting. */
function setup(
  channels: NotificationsInput['channels'],
  opts: NotifierOptions & { env?: Record<string, string> } = {},
): { notifier: Notifier; sleeps: number[] } {
  const sleeps: number[] = [];
  const config = notificationsSchema.parse({ channels, baseDelayMs: 100, maxDelayMs: 5000 });
  const r = createNotifier(config, {
    now: () => NOW,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    env: {},
    ...opts,
  });
  if (!r.ok) throw new Error(r.error.join('\n'));
  return { notifier: r.value, sleeps };
}

const webhook = (url: string, over: Record<string, unknown> = {}) => ({
  name: 'soc',
  kind: 'webhook' as const,
  url,
  secret: SECRET,
  ...over,
});

describe('webhook channel', () => {
  it('posts a signed envelope that verifies with the secret and fails with a wrong secret, altered body or old timestamp', async () => {
    const rx = await receiver();
    const { notifier } = setup([webhook(rx.url)]);
    const [r] = await notifier.notify(incidentEvent(incident()));
    expect(r).toMatchObject({ channel: 'soc', event: 'incident.new', ok: true, attempts: 1, status: 200 });

    const { headers, body } = rx.requests[0]!;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-apiwarden-event']).toBe('incident.new');
    expect(headers['x-apiwarden-delivery']).toBe(r!.delivery);
    expect(headers['x-apiwarden-timestamp']).toBe(String(NOW));
    const env = JSON.parse(body) as Envelope;
    expect(env).toEqual({ event: 'incident.new', id: r!.delivery, ts: NOW, data: incident() });

    const ts = headers['x-apiwarden-timestamp'] as string;
    const sig = headers['x-apiwarden-signature'] as string;
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, ts, body, sig, NOW + 5000)).toBe(true);
    expect(verifySignature('wrong-secret-0123456789abcdef', ts, body, sig, NOW)).toBe(false);
    expect(verifySignature(SECRET, ts, body.replace('"requests":412', '"requests":1'), sig, NOW)).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig, NOW + 10 * 60_000)).toBe(false);
  });

  it('signs each attempt with its own timestamp over the same body and delivery id', async () => {
    const rx = await receiver([{ status: 503 }, { status: 200 }]);
    let t = NOW;
    const { notifier } = setup([webhook(rx.url)], { now: () => (t += 1000) });
    const [r] = await notifier.notify(decisionEvent(decision));
    expect(r).toMatchObject({ ok: true, attempts: 2, event: 'decision.new' });
    const [a, b] = rx.requests;
    expect(a!.body).toBe(b!.body);
    expect(a!.headers['x-apiwarden-delivery']).toBe(b!.headers['x-apiwarden-delivery']);
    expect(a!.headers['x-apiwarden-timestamp']).not.toBe(b!.headers['x-apiwarden-timestamp']);
    for (const q of [a!, b!]) {
      const ts = q.headers['x-apiwarden-timestamp'] as string;
      expect(
        verifySignature(SECRET, ts, q.body, q.headers['x-apiwarden-signature'] as string, Number(ts)),
      ).toBe(true);
    }
    expect((JSON.parse(a!.body) as Envelope).data).toEqual(decision);
  });

  it('reads the secret from secretEnv', async () => {
    const rx = await receiver();
    const { notifier } = setup([webhook(rx.url, { secret: undefined, secretEnv: 'SOC_SECRET' })], {
      env: { SOC_SECRET: SECRET },
    });
    await notifier.notify(incidentEvent(incident()));
    const { headers, body } = rx.requests[0]!;
    expect(
      verifySignature(
        SECRET,
        headers['x-apiwarden-timestamp'] as string,
        body,
        headers['x-apiwarden-signature'] as string,
        NOW,
      ),
    ).toBe(true);
  });
});

describe('slack channel', () => {
  it('posts { text, blocks } with the hostile user name escaped, and no signature headers', async () => {
    const rx = await receiver([{ status: 200, body: 'ok' }]);
    const { notifier } = setup([{ name: 'sec', kind: 'slack', url: rx.url }]);
    const hostile = incident({
      actors: [{ kind: 'user', value: HOSTILE }, ...incident().actors],
      explanation: `credential stuffing against ${HOSTILE}`,
    });
    const [r] = await notifier.notify(incidentEvent(hostile));
    expect(r).toMatchObject({ channel: 'sec', ok: true, attempts: 1, status: 200 });

    const { headers, body } = rx.requests[0]!;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-apiwarden-signature']).toBeUndefined();
    const msg = JSON.parse(body) as SlackMessage;
    expect(Object.keys(msg).sort()).toEqual(['blocks', 'text', 'unfurl_links', 'unfurl_media']);
    const escaped = '&lt;!channel&gt; &lt;http://x|y&gt; &amp; *bold*';
    expect(msg.text).toBe(
      `New incident [HIGH] credential_stuffing: 3 actors (user \`${escaped}\`, ip \`203.0.113.7\`, user \`alice\`) ` +
        `on \`POST /api/v1/auth/login\` — credential stuffing against ${escaped}`,
    );
    const texts = msg.blocks.flatMap((b) =>
      b.type === 'section' ? [b.text, ...(b.fields ?? [])] : b.elements,
    );
    expect(texts.length).toBeGreaterThan(3);
    for (const t of [{ text: msg.text }, ...texts]) {
      expect(t.text).not.toContain('<!channel>');
      expect(t.text).not.toContain('<http');
      expect(t.text).not.toMatch(/[<>]/);
    }
    for (const t of texts) expect(t).toMatchObject({ type: 'mrkdwn', verbatim: true });
    expect(texts.map((t) => t.text).join('\n')).toContain(`*Actors* (3): user \`${escaped}\``);
  });

  it('tells of a decision: action, scope, TTL', async () => {
    const rx = await receiver();
    const { notifier } = setup([{ name: 'sec', kind: 'slack', url: rx.url }]);
    await notifier.notify(decisionEvent(decision));
    const msg = JSON.parse(rx.requests[0]!.body) as SlackMessage;
    expect(msg.text).toBe(
      'New decision [HIGH] block ip `203.0.113.7`, TTL 60 min (offence 1, auto, active) — credential stuffing',
    );
  });
});

describe('retries', () => {
  it('retries 500, 500, then 200: three attempts with exponential back-off, ok', async () => {
    const rx = await receiver([{ status: 500 }, { status: 500 }, { status: 200 }]);
    const { notifier, sleeps } = setup([webhook(rx.url)]);
    const [r] = await notifier.notify(incidentEvent(incident()));
    expect(r).toMatchObject({ ok: true, attempts: 3, status: 200 });
    expect(r!.error).toBeUndefined();
    expect(rx.requests).toHaveLength(3);
    // base 100, jitter 0.5: between half and all of 100, 200.
    expect(sleeps).toEqual([75, 150]);
  });

  it('honours Retry-After (seconds) on 429', async () => {
    const rx = await receiver([{ status: 429, headers: { 'retry-after': '2' } }, { status: 200 }]);
    const { notifier, sleeps } = setup([webhook(rx.url)]);
    const [r] = await notifier.notify(incidentEvent(incident()));
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(sleeps).toEqual([2000]);
  });

  it('does not wait for a Retry-After beyond maxDelayMs: failed with the status', async () => {
    const rx = await receiver([{ status: 429, headers: { 'retry-after': '3600' } }, { status: 200 }]);
    const { notifier, sleeps } = setup([webhook(rx.url)]);
    const [r] = await notifier.notify(incidentEvent(incident()));
    expect(r).toMatchObject({ ok: false, attempts: 1, status: 429 });
    expect(r!.error).toContain('Retry-After of 3600000 ms is longer than maxDelayMs (5000)');
    expect(sleeps).toEqual([]);
  });

  it('does not retry a 400: failed with the status and the start of the body', async () => {
    const rx = await receiver([{ status: 400, body: 'invalid_payload' }, { status: 200 }]);
    const { notifier, sleeps } = setup([{ name: 'sec', kind: 'slack', url: rx.url }]);
    const [r] = await notifier.notify(incidentEvent(incident()));
    expect(r).toMatchObject({
      ok: false,
      attempts: 1,
      status: 400,
      error: 'HTTP 400 Bad Request: invalid_payload',
    });
    expect(rx.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not follow redirects', async () => {
    const rx = await receiver([{ status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } }]);
    const { notifier } = setup([webhook(rx.url)]);
    const [r] = await notifier.notify(incidentEvent(incident()));
    expect(r).toMatchObject({ ok: false, attempts: 1, status: 302 });
    expect(r!.error).toContain('redirects are not followed');
  });

  it('retries a refused connection, then reports it failed without throwing', async () => {
    const url = await closedPort();
    const { notifier, sleeps } = setup([webhook(url)], { attempts: 3 });
    const [r] = await notifier.notify(incidentEvent(incident()));
    expect(r).toMatchObject({ ok: false, attempts: 3 });
    expect(r!.status).toBeUndefined();
    expect(r!.error).toMatch(/ECONNREFUSED 127\.0\.0\.1:\d+ \(gave up after 3 attempts\)$/);
    expect(r!.error).not.toContain('/hook');
    expect(sleeps).toEqual([75, 150]);
    expect(await notifier.flush()).toEqual([r]);
  });

  it('aborts an attempt the receiver never answers, and retries it', async () => {
    const rx = await receiver(['hang']);
    const { notifier } = setup([webhook(rx.url)], { attempts: 2, timeoutMs: 200 });
    const started = Date.now();
    const [r] = await notifier.notify(incidentEvent(incident()));
    expect(r).toMatchObject({
      ok: false,
      attempts: 2,
      error: 'timed out after 200 ms (gave up after 2 attempts)',
    });
    expect(rx.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('filters', () => {
  it('sends nothing below the minimum severity, outside the event kinds or the anomaly types', async () => {
    const rx = await receiver();
    const { notifier } = setup([
      webhook(rx.url, { minSeverity: 'high', events: ['incident.new'], types: ['credential_stuffing'] }),
    ]);
    expect(await notifier.notify(incidentEvent(incident({ severity: 'medium' })))).toEqual([]);
    expect(await notifier.notify(incidentEvent(incident(), 'incident.updated'))).toEqual([]);
    expect(await notifier.notify(incidentEvent(incident({ type: 'scanner', types: ['scanner'] })))).toEqual(
      [],
    );
    expect(await notifier.notify(decisionEvent(decision))).toEqual([]);
    expect(await notifier.flush()).toEqual([]);
    expect(rx.requests).toHaveLength(0);
    const [r] = await notifier.notify(incidentEvent(incident({ severity: 'critical' })));
    expect(r).toMatchObject({ ok: true });
    expect(rx.requests).toHaveLength(1);
  });
});

describe('queues and flush', () => {
  it('flush waits for every pending delivery and returns their results', async () => {
    const rx = await receiver([{ status: 200, delayMs: 50 }]);
    const seen: DeliveryResult[] = [];
    const { notifier } = setup([webhook(rx.url), { name: 'sec', kind: 'slack', url: rx.url }], {
      onResult: (r) => seen.push(r),
    });
    for (let i = 0; i < 5; i++) void notifier.notify(incidentEvent(incident({ requests: i })));
    expect(notifier.pending).toBe(10);
    const results = await notifier.flush();
    expect(notifier.pending).toBe(0);
    expect(results).toHaveLength(10);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(seen).toEqual(results);
    expect(rx.requests).toHaveLength(10);
    expect(await notifier.flush()).toEqual([]);
  });

  it('bounds concurrency per channel', async () => {
    const rx = await receiver([{ status: 200, delayMs: 100 }]);
    const { notifier } = setup([webhook(rx.url)], { concurrency: 2 });
    for (let i = 0; i < 6; i++) void notifier.notify(incidentEvent(incident({ requests: i })));
    await notifier.flush();
    expect(rx.requests).toHaveLength(6);
    expect(rx.peak).toBe(2);
  });

  it('a dead endpoint does not hold up other channels', async () => {
    const dead = await receiver(['hang']);
    const live = await receiver();
    const order: string[] = [];
    const { notifier } = setup([webhook(dead.url, { name: 'dead' }), webhook(live.url, { name: 'live' })], {
      attempts: 1,
      timeoutMs: 300,
      concurrency: 1,
      onResult: (r) => order.push(r.channel),
    });
    for (let i = 0; i < 3; i++) void notifier.notify(incidentEvent(incident({ requests: i })));
    const results = await notifier.flush();
    expect(order).toEqual(['live', 'live', 'live', 'dead', 'dead', 'dead']);
    expect(
      results.filter((r) => r.channel === 'dead').every((r) => !r.ok && /timed out/.test(r.error!)),
    ).toBe(true);
  });

  it('fails new deliveries at once when a channel queue is full', async () => {
    const rx = await receiver(['hang']);
    const { notifier } = setup([webhook(rx.url)], {
      attempts: 1,
      timeoutMs: 300,
      concurrency: 1,
      maxQueue: 1,
    });
    const first = notifier.notify(incidentEvent(incident({ requests: 1 })));
    const second = notifier.notify(incidentEvent(incident({ requests: 2 })));
    const [third] = await notifier.notify(incidentEvent(incident({ requests: 3 })));
    expect(third).toMatchObject({
      ok: false,
      attempts: 0,
      error: 'queue full (1 waiting): the channel is not keeping up',
    });
    expect((await first)[0]).toMatchObject({ ok: false, attempts: 1 });
    expect((await second)[0]).toMatchObject({ ok: false, attempts: 1 });
    expect(await notifier.flush()).toHaveLength(3);
  });

  it('never throws into the caller, even for a malformed event or a throwing onResult', async () => {
    const rx = await receiver();
    const { notifier } = setup([webhook(rx.url), { name: 'sec', kind: 'slack', url: rx.url }], {
      onResult: () => {
        throw new Error('logger broke');
      },
    });
    // Built by hand without actors: the Slack summary cannot be written.
    const broken = { event: 'incident.new', incident: { ...incident(), actors: undefined } } as never;
    const [hook, slack] = await notifier.notify(broken);
    expect(hook).toMatchObject({ channel: 'soc', ok: true });
    expect(slack).toMatchObject({ channel: 'sec', ok: false, attempts: 0 });
    expect(slack!.error).toMatch(/^cannot build the notification: /);
    // Data JSON cannot hold.
    const [big] = await notifier.notify(incidentEvent(incident({ requests: 1n as never })));
    expect(big).toMatchObject({ channel: 'soc', ok: false, attempts: 0 });
    expect(await notifier.notify(null as never)).toHaveLength(2);
    const results = await notifier.notify(incidentEvent(incident()));
    expect(results.map((r) => r.ok)).toEqual([true, true]);
  });
});

describe('notifyAll', () => {
  it('sends every event to every accepting channel and returns the results', async () => {
    const rx = await receiver();
    const r = await notifyAll(
      [
        webhook(rx.url, { secret: undefined, secretEnv: 'SOC_SECRET' }),
        { name: 'sec', kind: 'slack', url: rx.url, minSeverity: 'critical' },
      ],
      [incidentEvent(incident()), decisionEvent(decision)],
      { env: { SOC_SECRET: SECRET } },
    );
    expect(r.ok).toBe(true);
    const results = r.ok ? r.value : [];
    expect(results.map((x) => `${x.channel} ${x.event} ${x.ok}`).sort()).toEqual([
      'soc decision.new true',
      'soc incident.new true',
    ]);
    expect(rx.requests).toHaveLength(2);
  });

  it('returns configuration problems and sends nothing', async () => {
    const rx = await receiver();
    const r = await notifyAll(
      [webhook(rx.url, { secret: undefined, secretEnv: 'MISSING_SECRET' })],
      [incidentEvent(incident())],
      {
        env: {},
      },
    );
    expect(r).toEqual({
      ok: false,
      error: [
        'notifications.channels[0].secretEnv: MISSING_SECRET is not set in the environment; export the signing secret',
      ],
    });
    const bad = await notifyAll({ channels: [{ name: 'x', kind: 'slack', url: 'nope' }] }, []);
    expect(bad.ok ? [] : bad.error).toEqual([
      'notifications.channels[0].url: expected an http:// or https:// URL such as https://hooks.example.com/apiwarden',
    ]);
    expect(rx.requests).toHaveLength(0);
  });
});
