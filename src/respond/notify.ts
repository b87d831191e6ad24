/**
 * Notifications of new incidents and decisions (docs/notifications.md): signed JSON webhooks and Slack
 * incoming webhooks, with per-channel filters, retries with exponential back-off and jitter, and a bounded
 * queue per channel.
 *
 * A notification is a side effect of detection, never a reason for detection to fail: the Notifier does not
 * throw or reject into its caller; each delivery ends in a `DeliveryResult` (ok, attempts, HTTP status,
 * error). Each channel has its own queue and its own concurrency, so a dead or hanging endpoint only delays
 * its own deliveries. Secrets (a webhook's signing secret, a Slack URL, which is a credential itself) may
 * come from the environment (`secretEnv`, `urlEnv`) so config files need not hold them; they are kept in
 * private fields and never appear in results, errors or logs.
 */
import { z } from 'zod';
import { err, ok, type Result } from '../core/result.js';
import { ANOMALY_TYPES, type AnomalyType, SEVERITIES, type Severity } from '../detect/types.js';
import {
  deliveryId,
  envelope,
  NOTIFY_EVENTS,
  type NotifyEvent,
  type NotifyEventKind,
  sign,
  slackPayload,
} from './notify-format.js';

export {
  DEFAULT_TOLERANCE_MS,
  decisionEvent,
  deliveryId,
  type Envelope,
  envelope,
  escapeMrkdwn,
  incidentEvent,
  NOTIFY_EVENTS,
  type NotifyEvent,
  type NotifyEventKind,
  sign,
  slackPayload,
  verifySignature,
} from './notify-format.js';

export const CHANNEL_KINDS = ['webhook', 'slack'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const HEADERS = {
  event: 'x-apiwarden-event',
  delivery: 'x-apiwarden-delivery',
  timestamp: 'x-apiwarden-timestamp',
  signature: 'x-apiwarden-signature',
} as const;

const MIN_SECRET = 16;
const USER_AGENT = 'apiwarden (notifications)';

// ---------------------------------------------------------------------------------------------------------
// Configuration

const urlProblem = (u: string): string | null => {
  if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol))
    return 'expected an http:// or https:// URL such as https://hooks.example.com/apiwarden';
  const p = new URL(u);
  if (p.username !== '' || p.password !== '')
    return 'expected a URL without user:password@ (webhooks are authenticated by their signature)';
  return null;
};

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, {
  message: 'expected an environment variable name such as APIWARDEN_WEBHOOK_SECRET',
});

/** One notification channel (docs/notifications.md, "Configuration"). */
export const channelSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
      message: 'expected a channel name of letters, digits, _ . - (at most 64), such as soc-webhook',
    }),
    kind: z.enum(CHANNEL_KINDS, { message: `expected one of ${CHANNEL_KINDS.join(', ')}` }),
    url: z.string().optional(),
    /** The URL from this environment variable (a Slack webhook URL is a credential). */
    urlEnv: envName.optional(),
    /** webhook: the HMAC-SHA256 signing secret. */
    secret: z
      .string()
      .min(MIN_SECRET, {
        message: `expected at least ${MIN_SECRET} characters of a random secret (e.g. the output of openssl rand -hex 32)`,
      })
      .optional(),
    /** webhook: the signing secret from this environment variable. */
    secretEnv: envName.optional(),
    minSeverity: z.enum(SEVERITIES, { message: `expected one of ${SEVERITIES.join(', ')}` }).default('low'),
    events: z
      .array(z.enum(NOTIFY_EVENTS, { message: `expected one of ${NOTIFY_EVENTS.join(', ')}` }))
      .min(1, { message: 'expected at least one event kind, or no events key (all kinds)' })
      .default([...NOTIFY_EVENTS]),
    /** Anomaly types to notify about; empty: all. */
    types: z
      .array(z.enum(ANOMALY_TYPES, { message: `expected one of ${ANOMALY_TYPES.join(', ')}` }))
      .default([]),
  })
  .superRefine((c, ctx) => {
    if (c.url !== undefined && c.urlEnv !== undefined)
      ctx.addIssue({ code: 'custom', path: ['urlEnv'], message: 'give either url or urlEnv, not both' });
    else if (c.url === undefined && c.urlEnv === undefined)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'says nowhere to send to; add url: <http(s) URL> or urlEnv: <environment variable>',
      });
    if (c.url !== undefined) {
      const problem = urlProblem(c.url);
      if (problem !== null) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
    }
    if (c.kind === 'webhook') {
      if (c.secret !== undefined && c.secretEnv !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['secretEnv'],
          message: 'give either secret or secretEnv, not both; prefer secretEnv',
        });
      else if (c.secret === undefined && c.secretEnv === undefined)
        ctx.addIssue({
          code: 'custom',
          path: [],
          message:
            'is a webhook without a signing secret; add secretEnv: <environment variable> (or secret: <at least 16 characters>)',
        });
    } else {
      for (const k of ['secret', 'secretEnv'] as const)
        if (c[k] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [k],
            message:
              'slack messages are not signed (the URL is the credential); remove it, and prefer urlEnv',
          });
    }
  });

/** The `notifications` config section. */
export const notificationsSchema = z
  .strictObject({
    channels: z
      .array(channelSchema)
      .max(32, { message: 'expected at most 32 channels' })
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((c, i) => {
          if (seen.has(c.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `'${c.name}' is used twice; give each channel its own name`,
            });
          seen.add(c.name);
        });
      }),
    /** Attempts per delivery, the first included. */
    attempts: z.number().int().min(1).max(10).default(4),
    /** Back-off before the second attempt; doubled for each further one, with jitter. */
    baseDelayMs: z.number().int().min(1).max(60_000).default(1000),
    /** The longest back-off, and the longest Retry-After honoured. */
    maxDelayMs: z.number().int().min(1).max(3_600_000).default(30_000),
    /** How long one attempt may take. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** Deliveries in flight at once, per channel. */
    concurrency: z.number().int().min(1).max(16).default(2),
    /** Deliveries waiting per channel; beyond it new ones fail at once (`queue full`). */
    maxQueue: z.number().int().min(1).max(100_000).default(1000),
  })
  .superRefine((n, ctx) => {
    if (n.maxDelayMs < n.baseDelayMs)
      ctx.addIssue({
        code: 'custom',
        path: ['maxDelayMs'],
        message: `must be at least baseDelayMs (${n.baseDelayMs})`,
      });
  });

export type ChannelConfig = z.infer<typeof channelSchema>;
export type NotificationsConfig = z.infer<typeof notificationsSchema>;
/** What code may pass before validation (defaults not filled). */
export type ChannelInput = z.input<typeof channelSchema>;
export type NotificationsInput = z.input<typeof notificationsSchema>;

export type DeliverySettings = Pick<
  NotificationsConfig,
  'attempts' | 'baseDelayMs' | 'maxDelayMs' | 'timeoutMs' | 'concurrency' | 'maxQueue'
>;
export const DEFAULT_DELIVERY: DeliverySettings = (() => {
  const { channels: _, ...d } = notificationsSchema.parse({});
  return d;
})();

function fieldPath(path: readonly PropertyKey[]): string {
  let s = 'notifications';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return s;
}

/** The keys valid where an unknown one was found: the section's, or a channel's. */
const validKeys = (path: readonly PropertyKey[]): string[] =>
  Object.keys(path.length === 0 ? notificationsSchema.shape : channelSchema.shape);

/**
 * Validates a section given in code (the config loader validates the file's); the messages are the
 * loader's, with `notifications.` in front of the field.
 */
export function parseNotifications(raw: unknown): Result<NotificationsConfig, string[]> {
  const r = notificationsSchema.safeParse(raw ?? {});
  if (r.success) return ok(r.data);
  return err(
    r.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')} in ${fieldPath(i.path)} (valid: ${validKeys(i.path).join(', ')})`
        : `${fieldPath(i.path)}: ${i.message}`,
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Channels

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/**
 * A configured channel with its secrets resolved. The URL and the secret are private: `JSON.stringify` and
 * `console.log` of a channel show neither.
 */
export class Channel {
  readonly name: string;
  readonly kind: ChannelKind;
  readonly minSeverity: Severity;
  readonly events: ReadonlySet<NotifyEventKind>;
  /** null: every type. */
  readonly types: ReadonlySet<AnomalyType> | null;
  readonly #url: string;
  readonly #secret: string | null;

  /** Throws for a webhook without a secret (a bug in the caller): build channels with `resolveChannels`. */
  constructor(config: ChannelConfig, url: string, secret: string | null) {
    if (config.kind === 'webhook' && secret === null)
      throw new Error(`notification channel '${config.name}': a webhook needs a signing secret`);
    this.name = config.name;
    this.kind = config.kind;
    this.minSeverity = config.minSeverity;
    this.events = new Set(config.events);
    this.types = config.types.length > 0 ? new Set(config.types) : null;
    this.#url = url;
    this.#secret = secret;
  }

  /**
   * The channel's filters. A filter that is set excludes events without the field: a decision without a
   * severity passes only `minSeverity: low`, one without a type only a channel without `types`.
   */
  accepts(e: NotifyEvent): boolean {
    if (!this.events.has(e.event)) return false;
    const severity = 'incident' in e ? e.incident.severity : e.decision.severity;
    if (this.minSeverity !== 'low' && (severity === undefined || rank(severity) < rank(this.minSeverity)))
      return false;
    if (this.types === null) return true;
    const types = 'incident' in e ? [e.incident.type, ...e.incident.types] : [e.decision.type];
    return types.some((t) => t !== undefined && this.types!.has(t));
  }

  /** The body of a delivery: the same bytes for every attempt. */
  body(e: NotifyEvent, ts: number): string {
    return JSON.stringify(this.kind === 'webhook' ? envelope(this.name, e, ts) : slackPayload(e));
  }

  /** One attempt's request; a webhook's is signed with the attempt's timestamp. @internal */
  request(
    e: NotifyEvent,
    delivery: string,
    body: string,
    now: number,
  ): { url: string; headers: Record<string, string> } {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
    if (this.kind === 'webhook') {
      headers[HEADERS.event] = e.event;
      headers[HEADERS.delivery] = delivery;
      headers[HEADERS.timestamp] = String(now);
      headers[HEADERS.signature] = sign(this.#secret!, now, body);
    }
    return { url: this.#url, headers };
  }

  toJSON() {
    return { name: this.name, kind: this.kind };
  }
}

/**
 * Turns the validated section into channels, reading `urlEnv` and `secretEnv` from `env`. Errors name the
 * field and the variable, never a value.
 */
export function resolveChannels(
  config: NotificationsConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Result<Channel[], string[]> {
  const errors: string[] = [];
  const out: Channel[] = [];
  config.channels.forEach((c, i) => {
    const at = `notifications.channels[${i}]`;
    let url = c.url ?? '';
    if (c.urlEnv !== undefined) {
      url = env[c.urlEnv]?.trim() ?? '';
      if (url === '') errors.push(`${at}.urlEnv: ${c.urlEnv} is not set in the environment; export it`);
      else if (urlProblem(url) !== null)
        errors.push(`${at}.urlEnv: ${c.urlEnv} does not hold an http:// or https:// URL without credentials`);
    }
    let secret: string | null = c.secret ?? null;
    if (c.secretEnv !== undefined) {
      secret = env[c.secretEnv] ?? '';
      if (secret === '')
        errors.push(
          `${at}.secretEnv: ${c.secretEnv} is not set in the environment; export the signing secret`,
        );
      else if (secret.length < MIN_SECRET)
        errors.push(
          `${at}.secretEnv: ${c.secretEnv} holds fewer than ${MIN_SECRET} characters; use a random secret (e.g. openssl rand -hex 32)`,
        );
    }
    out.push(new Channel(c, url, secret));
  });
  return errors.length > 0 ? err(errors) : ok(out);
}

// ---------------------------------------------------------------------------------------------------------
// Delivery

export interface DeliveryResult {
  channel: string;
  event: NotifyEventKind;
  /** The delivery id (`x-apiwarden-delivery`, the envelope's `id`). */
  delivery: string;
  ok: boolean;
  /** HTTP requests made (0 when the queue was full). */
  attempts: number;
  /** The last response's status, when there was one. */
  status?: number;
  /** Why it failed (the last attempt's problem). Never holds a secret or the URL's path. */
  error?: string;
}

export interface NotifierOptions extends Partial<DeliverySettings> {
  /** ms epoch; default Date.now. Envelope `ts`, signature timestamps and Retry-After dates use it. */
  now?: () => number;
  /** Waits between attempts; default a timer. Tests pass one that records and returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** 0..1 for the jitter; default Math.random. */
  random?: () => number;
  /** Called with each result as it is settled (a throwing callback is ignored). */
  onResult?: (r: DeliveryResult) => void;
}

type Outcome =
  | { kind: 'ok'; status: number }
  | { kind: 'retry'; status?: number; error: string; retryAfterMs?: number }
  | { kind: 'fail'; status?: number; error: string };

interface Job {
  channel: Channel;
  event: NotifyEvent;
  delivery: string;
  body: string;
  done: (r: DeliveryResult) => void;
}

interface Lane {
  active: number;
  queue: Job[];
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Exponential back-off with "equal jitter": between half and all of base·2^(attempt−1), capped. */
export function backoffMs(attempt: number, base: number, max: number, random: () => number): number {
  const cap = Math.min(max, base * 2 ** (attempt - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}

function describeError(e: unknown, timeoutMs: number): string {
  const x = e as Error & { cause?: { code?: string; message?: string } };
  if (x?.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  // undici's own message is "fetch failed"; the cause says why (connect ECONNREFUSED 127.0.0.1:9).
  const cause = x?.cause?.message ?? x?.cause?.code;
  return cause !== undefined ? cause : String(x?.message ?? e);
}

/** The start of an error response's body (Slack says what is wrong there: `invalid_payload`). */
async function snippet(res: Response, max = 200): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < 1024) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    // A body that fails half-way says nothing more.
  } finally {
    await reader.cancel().catch(() => {});
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Sends notifications to channels. `notify` never throws: it queues one delivery per channel whose filters
 * accept the event and returns a promise of their results that never rejects; `flush` waits for everything
 * queued so far.
 */
export class Notifier {
  readonly channels: readonly Channel[];
  private readonly settings: DeliverySettings;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onResult: ((r: DeliveryResult) => void) | undefined;
  private readonly lanes = new Map<string, Lane>();
  private readonly inflight = new Set<Promise<DeliveryResult>>();
  private settled: DeliveryResult[] = [];

  constructor(channels: readonly Channel[], opts: NotifierOptions = {}) {
    this.channels = channels;
    const pick = <K extends keyof DeliverySettings>(k: K) => opts[k] ?? DEFAULT_DELIVERY[k];
    this.settings = {
      attempts: pick('attempts'),
      baseDelayMs: pick('baseDelayMs'),
      maxDelayMs: pick('maxDelayMs'),
      timeoutMs: pick('timeoutMs'),
      concurrency: pick('concurrency'),
      maxQueue: pick('maxQueue'),
    };
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
    this.onResult = opts.onResult;
    for (const c of channels) this.lanes.set(c.name, { active: 0, queue: [] });
  }

  /** Deliveries queued or in flight. */
  get pending(): number {
    return this.inflight.size;
  }

  /** Queues the event for every channel that accepts it; resolves with their results (never rejects). */
  notify(e: NotifyEvent): Promise<DeliveryResult[]> {
    const out: Promise<DeliveryResult>[] = [];
    for (const channel of this.channels) {
      try {
        if (!channel.accepts(e)) continue;
        out.push(this.enqueue(channel, e));
      } catch (x) {
        // A malformed event (built by hand, missing fields) is a failed delivery, not an exception.
        out.push(
          Promise.resolve(
            this.record({
              channel: channel.name,
              event: e?.event,
              delivery: '',
              ok: false,
              attempts: 0,
              error: `cannot build the notification: ${(x as Error)?.message ?? x}`,
            }),
          ),
        );
      }
    }
    return Promise.all(out);
  }

  /** Waits until nothing is queued or in flight; returns the results settled since the previous flush. */
  async flush(): Promise<DeliveryResult[]> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
    const out = this.settled;
    this.settled = [];
    return out;
  }

  private record(r: DeliveryResult): DeliveryResult {
    this.settled.push(r);
    try {
      this.onResult?.(r);
    } catch {
      // The caller's logging must not break delivery.
    }
    return r;
  }

  private enqueue(channel: Channel, e: NotifyEvent): Promise<DeliveryResult> {
    const delivery = deliveryId(channel.name, e);
    const lane = this.lanes.get(channel.name)!;
    if (lane.queue.length >= this.settings.maxQueue) {
      return Promise.resolve(
        this.record({
          channel: channel.name,
          event: e.event,
          delivery,
          ok: false,
          attempts: 0,
          error: `queue full (${this.settings.maxQueue} waiting): the channel is not keeping up`,
        }),
      );
    }
    const body = channel.body(e, this.now());
    let done!: (r: DeliveryResult) => void;
    const p = new Promise<DeliveryResult>((resolve) => {
      done = resolve;
    });
    this.inflight.add(p);
    void p.then(() => this.inflight.delete(p));
    lane.queue.push({ channel, event: e, delivery, body, done });
    this.pump(lane);
    return p;
  }

  private pump(lane: Lane): void {
    while (lane.active < this.settings.concurrency && lane.queue.length > 0) {
      const job = lane.queue.shift()!;
      lane.active++;
      void this.deliver(job)
        .catch(
          (x): DeliveryResult => ({
            channel: job.channel.name,
            event: job.event.event,
            delivery: job.delivery,
            ok: false,
            attempts: 0,
            error: `internal error: ${(x as Error)?.message ?? x}`,
          }),
        )
        .then((r) => {
          lane.active--;
          job.done(this.record(r));
          this.pump(lane);
        });
    }
  }

  private async deliver(job: Job): Promise<DeliveryResult> {
    const { attempts: max, baseDelayMs, maxDelayMs } = this.settings;
    const base = { channel: job.channel.name, event: job.event.event, delivery: job.delivery };
    for (let attempt = 1; ; attempt++) {
      const o = await this.attempt(job);
      const status = o.status !== undefined ? { status: o.status } : {};
      if (o.kind === 'ok') return { ...base, ok: true, attempts: attempt, status: o.status };
      if (o.kind === 'fail') return { ...base, ok: false, attempts: attempt, ...status, error: o.error };
      if (attempt >= max)
        return {
          ...base,
          ok: false,
          attempts: attempt,
          ...status,
          error: `${o.error} (gave up after ${attempt} attempts)`,
        };
      if (o.retryAfterMs !== undefined && o.retryAfterMs > maxDelayMs)
        return {
          ...base,
          ok: false,
          attempts: attempt,
          ...status,
          error: `${o.error}; Retry-After of ${o.retryAfterMs} ms is longer than maxDelayMs (${maxDelayMs}), not retried`,
        };
      await this.sleep(o.retryAfterMs ?? backoffMs(attempt, baseDelayMs, maxDelayMs, this.random));
    }
  }

  private async attempt(job: Job): Promise<Outcome> {
    const { timeoutMs } = this.settings;
    const now = this.now();
    const { url, headers } = job.channel.request(job.event, job.delivery, job.body, now);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: job.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      return { kind: 'retry', error: describeError(e, timeoutMs) };
    }
    const status = res.status;
    if (status >= 200 && status < 300) {
      await res.body?.cancel().catch(() => {});
      return { kind: 'ok', status };
    }
    const text = await snippet(res);
    const error = `HTTP ${status}${res.statusText ? ` ${res.statusText}` : ''}${text ? `: ${text}` : ''}`;
    if (status === 429 || status >= 500) {
      const after = retryAfterMs(res.headers.get('retry-after'), this.now());
      return after !== undefined
        ? { kind: 'retry', status, error, retryAfterMs: after }
        : { kind: 'retry', status, error };
    }
    if (status >= 300 && status < 400)
      return {
        kind: 'fail',
        status,
        error: `${error} (redirects are not followed; configure the final URL)`,
      };
    return { kind: 'fail', status, error };
  }
}

/**
 * Builds a Notifier from the validated section, reading secrets from `opts.env` (default process.env).
 * The section's delivery settings apply unless `opts` overrides them.
 */
export function createNotifier(
  config: NotificationsConfig,
  opts: NotifierOptions & { env?: Readonly<Record<string, string | undefined>> } = {},
): Result<Notifier, string[]> {
  const channels = resolveChannels(config, opts.env);
  if (!channels.ok) return channels;
  const { channels: _, ...settings } = config;
  const { env: _env, ...rest } = opts;
  return ok(new Notifier(channels.value, { ...settings, ...definedOnly(rest) }));
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * For commands: validates `channels` (the `notifications` section, or just its channel list), sends every
 * event to every channel that accepts it and waits. Err only for a configuration problem (nothing is sent
 * then); failed deliveries are results with `ok: false`.
 */
export async function notifyAll(
  channels: NotificationsInput | readonly ChannelInput[],
  events: Iterable<NotifyEvent>,
  opts: NotifierOptions & { env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<Result<DeliveryResult[], string[]>> {
  const config = parseNotifications(Array.isArray(channels) ? { channels } : channels);
  if (!config.ok) return config;
  const notifier = createNotifier(config.value, opts);
  if (!notifier.ok) return notifier;
  for (const e of events) void notifier.value.notify(e);
  return ok(await notifier.value.flush());
}
