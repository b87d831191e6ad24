/**
 * `apiwarden serve`: the JSON API, HTTP ingest, live updates and metrics of src/server/ behind a listener
 * (docs/server.md). State in PostgreSQL when DATABASE_URL is set, else PGlite under the data directory. On
 * the very first start (no users yet) it creates the `admin` user and prints its token once, on stderr.
 * SIGINT or SIGTERM stops it gracefully: live streams end, requests in flight finish, the live pipeline's
 * open segment is judged and stored, the state is closed.
 *
 * `--input LOG|DIR`: the same server on the user's own logs. Without a stored profile it first learns one
 * from the input (analyze's pass 1: the profile and the inventory, stored in the state), then replays the
 * input through `ServerApp.ingest` (the path POST /api/v1/ingest takes) in file order, as fast as possible or
 * at `--speed` times the logs' own clock, then keeps serving.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config/schema.js';
import type { ApiEvent } from '../core/event.js';
import { secretScrubber } from '../core/identity.js';
import type { MalformedReason } from '../core/result.js';
import { Inventory } from '../inventory/catalog.js';
import { detectFormat, findFormat } from '../parsers/registry.js';
import { Quarantine } from '../pipeline/quarantine.js';
import { sniffFile } from '../pipeline/sniff.js';
import { createNotifier, type Notifier } from '../respond/notify.js';
import { parseDuration } from '../respond/policy.js';
import { StateError } from '../respond/state.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import { createApp, DEFAULT_INGEST_RATE, DEFAULT_MAX_BODY_BYTES, type ServerApp } from '../server/app.js';
import { type Listening, listen } from '../server/listen.js';
import type { EventSink } from '../sinks/types.js';
import { expandInputs } from '../sources/expand.js';
import { FileSource } from '../sources/file.js';
import { EventStore } from '../store/events.js';
import { openState, type PgStateStore } from '../store/state/pg-state.js';
import { LearnSink } from './analyze.js';
import { duration, int } from './human.js';
import { CliError, cliConfig, type Io, parseInputs } from './parse.js';

export const DEFAULT_DATA_DIR = 'apiwarden-data';

export interface ServeFlags {
  host: string;
  port: number;
  dataDir: string;
  store?: string;
  config?: string;
  maxBodyBytes?: number;
  ingestRate?: number;
  segment?: string;
  segmentClock?: string;
  input?: string[];
  format?: string;
  speed?: number;
  asFastAsPossible?: boolean;
}

/** A commander parser for a whole-number option in [min, max]. */
export const wholeNumber = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got '${v}'`);
  return n;
};

/** A commander parser for a number option in [min, max]. */
export const numberIn = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, got '${v}'`);
  return n;
};

export function registerServe(program: Command, io: Io, setExit: (code: number) => void): Command {
  return program
    .command('serve')
    .description(
      'Run the server: JSON API, HTTP ingest, live detection, live updates, metrics (docs/server.md)',
    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', wholeNumber('--port', 0, 65535), 8080)
    .option(
      '--data-dir <dir>',
      'the data directory: the embedded database (state.pglite) unless DATABASE_URL is set, and ingest-quarantine.jsonl',
      DEFAULT_DATA_DIR,
    )
    .option(
      '--store <dir>',
      'the event store (apiwarden ingest) that backtests run over; without it they answer 409',
    )
    .option(
      '-c, --config <file>',
      'YAML configuration: response policy, event options, detection rules, notifications (docs/configuration.md)',
    )
    .option(
      '--max-body-bytes <n>',
      `largest request body, as sent and after gzip (default ${DEFAULT_MAX_BODY_BYTES})`,
      wholeNumber('--max-body-bytes', 1024, 1024 ** 3),
    )
    .option(
      '--ingest-rate <n>',
      `ingest requests per second per API token, bursts of twice that (default ${DEFAULT_INGEST_RATE.perSec})`,
      wholeNumber('--ingest-rate', 1, 1_000_000),
    )
    .option('--segment <duration>', 'live detection: judge and store incidents this often (default 5m)')
    .option(
      '--segment-clock <clock>',
      "what --segment counts: 'wall' (the server's clock; the default) or 'event' (the events' own time: a replay gives the same incidents at any speed; the default with --input)",
    )
    .option(
      '--input <path>',
      'replay a log file, .gz, directory or glob through the server (repeatable); learns a profile from it first when none is stored',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--format <name>',
      'with --input: the input format (default: detected; apiwarden formats lists them)',
    )
    .option(
      '--speed <x>',
      "with --input: replay at this many times the logs' own clock (60: an hour of logs a minute)",
      numberIn('--speed', 0.001, 1_000_000),
    )
    .option('--as-fast-as-possible', 'with --input: replay without waiting (the default)')
    .addHelpText(
      'after',
      `
Environment:
  DATABASE_URL  postgres://USER:PASSWORD@HOST:5432/DB: the state in PostgreSQL instead of the data directory

The first start prints the admin's API token once on stderr; create more users and tokens with the API
(POST /api/v1/users, POST /api/v1/tokens). /healthz and /metrics need no token: keep the port private.

Examples:
  apiwarden serve --data-dir /var/lib/apiwarden --store /var/lib/apiwarden/events
  DATABASE_URL=postgres://apiwarden@db/apiwarden apiwarden serve --host 0.0.0.0 --port 8080 -c apiwarden.yaml
  curl -H "Authorization: Bearer $TOKEN" --data-binary @access.log http://127.0.0.1:8080/api/v1/ingest
  apiwarden serve --input /var/log/nginx/ --store events/          # learn, replay, serve your own logs
  apiwarden serve --input access.log.gz --speed 60                  # an hour of the log each minute
`,
    )
    .action(async (flags: ServeFlags) => {
      setExit(await runServe(flags, io));
    });
}

/** Resolves when the process is asked to stop: the CLI's abort signal (SIGINT), or SIGTERM. */
function stopRequested(io: Io): Promise<string> {
  return new Promise((done) => {
    const onTerm = () => finish('SIGTERM');
    const onInt = () => finish('SIGINT');
    const finish = (why: string) => {
      process.off('SIGTERM', onTerm);
      if (io.signal === undefined) process.off('SIGINT', onInt);
      io.signal?.removeEventListener('abort', onAbort);
      done(why);
    };
    const onAbort = () => finish('SIGINT');
    process.on('SIGTERM', onTerm);
    if (io.signal === undefined) process.on('SIGINT', onInt);
    else if (io.signal.aborted) return finish('SIGINT');
    else io.signal.addEventListener('abort', onAbort);
  });
}

export async function runServe(f: ServeFlags, io: Io): Promise<number> {
  const say = (s: string) => io.stderr.write(`apiwarden: ${s}\n`);
  const config = await cliConfig(f.config, { rules: true });
  const segmentMs = f.segment === undefined ? undefined : parseDuration(f.segment);
  if (segmentMs === null)
    throw new CliError(`--segment must be a duration such as 1m, 5m or 1h, got '${f.segment}'`, 2);
  const inputs = f.input ?? [];
  if (inputs.length === 0) {
    for (const [flag, given] of [
      ['--format', f.format !== undefined],
      ['--speed', f.speed !== undefined],
      ['--as-fast-as-possible', f.asFastAsPossible === true],
    ] as const)
      if (given) throw new CliError(`${flag} goes with --input (a log file or directory to replay)`, 2);
  }
  if (f.speed !== undefined && f.asFastAsPossible === true)
    throw new CliError('give --speed or --as-fast-as-possible, not both', 2);
  const clock = f.segmentClock ?? (inputs.length > 0 ? 'event' : 'wall');
  if (clock !== 'event' && clock !== 'wall')
    throw new CliError(`--segment-clock must be 'wall' or 'event', got '${f.segmentClock}'`, 2);
  const replay = inputs.length === 0 ? null : await replayPlan(inputs, f.format, config);
  const dataDir = resolve(f.dataDir);
  await mkdir(dataDir, { recursive: true }).catch((e: Error) => {
    throw new CliError(`cannot create the data directory ${dataDir}: ${e.message}`);
  });
  const databaseUrl = process.env.DATABASE_URL;
  let state: PgStateStore;
  try {
    state = await openState({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  } catch (e) {
    if (e instanceof StateError || (e instanceof Error && /DATABASE_URL|lock/i.test(e.message)))
      throw new CliError(e.message);
    throw e;
  }
  let notifier: Notifier | null = null;
  let listening: Listening | null = null;
  let server: Awaited<ReturnType<typeof createApp>> | null = null;
  try {
    const first = await state.firstAdminToken();
    if (first !== null) {
      say(`first start: created the admin user '${first.user.name}' and an API token for it.`);
      say(`admin API token (shown only this once; keep it in a secret store): ${first.secret}`);
    }
    if (config.notifications.channels.length > 0) {
      const n = createNotifier(config.notifications);
      if (!n.ok) throw new CliError(n.error.join('\n'), 2);
      notifier = n.value;
    }
    const ev = config.events;
    const quarantine = new ReplayQuarantine({
      path: join(dataDir, 'ingest-quarantine.jsonl'),
      maxRecords: config.quarantine.maxRecords,
      sampleChars: config.quarantine.sampleChars,
      scrub: secretScrubber([...ev.credentialQueryKeys, ...ev.credentialCookies]),
    });
    if (replay !== null) await learnIfNeeded(state, replay, f, config, io, say);
    const segment = segmentMs ?? 300_000;
    server = await createApp({
      state,
      config,
      storeDir: f.store === undefined ? null : resolve(f.store),
      notifier,
      quarantine,
      ...(f.maxBodyBytes === undefined ? {} : { maxBodyBytes: f.maxBodyBytes }),
      ...(f.ingestRate === undefined
        ? {}
        : { ingestRate: { perSec: f.ingestRate, burst: f.ingestRate * 2 } }),
      pipeline: {
        segmentMs: segment,
        ...(clock === 'event' ? { segmentEventMs: segment } : {}),
        // Live events go to the event store too: backtests and analyze --store cover them.
        ...(f.store === undefined ? {} : { store: new EventStore(resolve(f.store)) }),
      },
      log: (m) => say(m),
    });
    try {
      listening = await listen(server.app, f.host, f.port);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new CliError(
        err.code === 'EADDRINUSE'
          ? `${f.host}:${f.port} is in use (another apiwarden serve?); pick another --port`
          : `cannot listen on ${f.host}:${f.port}: ${err.message}`,
      );
    }
    const detecting = server.sink.stats?.().detecting ?? false;
    say(
      `listening on ${listening.url} (state ${state.location}${f.store === undefined ? '' : `; store ${resolve(f.store)}, live events appended`}; live detection ${detecting ? `on, segments of ${duration(segment)} on the ${clock} clock` : 'off until a profile is stored (PUT /api/v1/profile)'})`,
    );
    const stop = stopRequested(io);
    if (replay !== null) {
      const ac = new AbortController();
      void stop.then(() => ac.abort());
      await replayInputs(server, replay, quarantine, {
        speed: f.speed ?? null,
        signal: ac.signal,
        say,
        maxLineBytes: config.input.maxLineBytes,
      });
      if (!ac.signal.aborted) say(`serving on ${listening.url}; Ctrl-C stops`);
    }
    const why = await stop;
    say(`${why}: stopping`);
  } finally {
    server?.hub.close();
    await listening?.close();
    await server?.close();
    await state.close();
  }
  say('stopped');
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// serve --input: learn (when no profile is stored), replay, keep serving

interface ReplayPlan {
  files: string[];
  /** The format every file is read in: given, or detected from the first file's first bytes. */
  format: string;
  detected: boolean;
  framing: 'line' | 'document';
}

async function replayPlan(inputs: string[], format: string | undefined, config: Config): Promise<ReplayPlan> {
  if (inputs.includes('-')) throw new CliError('--input takes files or directories, not stdin (-)', 2);
  const expanded = await expandInputs(inputs);
  if (!expanded.ok) throw new CliError(`--input: ${expanded.error}`);
  if (expanded.files.length === 0) throw new CliError(`--input: no files in ${inputs.join(', ')}`);
  const files = expanded.files;
  let name = format ?? config.input.format;
  let detected = false;
  if (name === 'auto') {
    const first = files[0]!;
    const sniffed = await sniffFile(first).catch((e: NodeJS.ErrnoException) => {
      throw new CliError(
        `--input: cannot read '${first}': ${e.code === 'ENOENT' ? 'no such file' : e.message}`,
      );
    });
    if (sniffed.text.length === 0)
      throw new CliError(`--input: '${first}' is empty: nothing to detect its format from; pass --format`, 2);
    const d = detectFormat(sniffed.text, sniffed.truncated);
    if (!d.ok) throw new CliError(`--input: ${d.error}`);
    name = d.value.format;
    detected = true;
  }
  const spec = findFormat(name);
  if (spec === undefined)
    throw new CliError(`--format: unknown format '${name}' (apiwarden formats lists them)`, 2);
  return { files, format: name, detected, framing: spec.framing === 'document' ? 'document' : 'line' };
}

/** Counts what the learning pass read, and says so every 10 s when no progress bar is shown. */
class CountingSink implements EventSink {
  events = 0;
  private last = performance.now();
  constructor(
    private readonly inner: EventSink,
    private readonly say: ((s: string) => void) | null,
  ) {}
  async write(events: readonly ApiEvent[]): Promise<void> {
    this.events += events.length;
    await this.inner.write(events);
    if (this.say !== null && performance.now() - this.last >= 10_000) {
      this.last = performance.now();
      this.say(`learning: ${int(this.events)} events read`);
    }
  }
  async close(): Promise<void> {
    await this.inner.close();
  }
}

/**
 * Without a stored profile, learns one from the input first (analyze's pass 1: thresholds, habitual actors,
 * the behaviour model, parameter profiles, the inventory) and stores it with the inventory in the state.
 */
async function learnIfNeeded(
  state: PgStateStore,
  plan: ReplayPlan,
  f: ServeFlags,
  config: Config,
  io: Io,
  say: (s: string) => void,
): Promise<void> {
  const stored = await state.latestProfile();
  if (stored !== undefined) {
    say(
      `--input: judging against the stored profile #${stored.id} (${new Date(stored.ts).toISOString()}); nothing to learn first`,
    );
    return;
  }
  say(
    `--input: no profile stored: learning one from ${plan.files.length === 1 ? plan.files[0] : `${plan.files.length} files`} first (format ${plan.format}${plan.detected ? ', detected' : ''}; analyze's first pass)`,
  );
  const t0 = performance.now();
  const scanner = new SensitiveScanner(config.sensitive);
  const inventory = new Inventory({ scanner });
  const learn = new LearnSink(scanner, inventory);
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  const counting = new CountingSink(learn, tty ? null : say);
  const summary = await parseInputs(
    plan.files,
    {
      ...(f.config === undefined ? {} : { config: f.config }),
      format: plan.format,
      quarantine: 'none',
      progress: tty,
    },
    io,
    counting,
  );
  if (summary.events === 0)
    throw new CliError(
      `--input: no events in ${plan.files.join(', ')} (${int(summary.malformed)} malformed records as ${plan.format}); check the format (--format)`,
    );
  const profile = learn.run.build();
  profile.params = learn.params.finish().toJSON();
  const inv = await state.putInventory(inventory.report());
  const prof = await state.putProfile(profile);
  say(
    `--input: learned the profile (#${prof.id}) and the inventory (#${inv.id}, ${int(inventory.report().endpoints.length)} endpoints) from ${int(summary.events)} events in ${duration(performance.now() - t0)}${summary.malformed > 0 ? ` (${int(summary.malformed)} malformed records skipped; they are quarantined during the replay)` : ''}`,
  );
}

/**
 * The server's quarantine, with file line numbers for replayed records: ingest numbers a body's records
 * from 1; the replay says where each body starts in its file. Bodies parse synchronously when `ingest` is
 * called, so setting the offset just before the call cannot mix up two bodies.
 */
class ReplayQuarantine extends Quarantine {
  private replaySource: string | null = null;
  private offset = 0;
  at(source: string, firstLine: number): void {
    this.replaySource = source;
    this.offset = firstLine - 1;
  }
  override add(
    source: string,
    line: number,
    reason: MalformedReason,
    detail: string | undefined,
    raw: string,
    length = raw.length,
  ): void {
    super.add(source, source === this.replaySource ? line + this.offset : line, reason, detail, raw, length);
  }
}

/** Records per ingest call at most. */
const REPLAY_CHUNK = 5_000;

interface ReplayResult {
  records: number;
  events: number;
  blank: number;
  malformed: number;
  reasons: Partial<Record<MalformedReason, number>>;
  aborted: boolean;
}

/**
 * Replays the files, in order, through `server.ingest`. With `speed`, waits so that an event at log time t is
 * ingested at (t − first event time) / speed after the start (chunks of ~250 ms of wall time); without it,
 * goes as fast as the server takes the events. Framing rejects (over-long lines) are counted and quarantined
 * as ingest's own malformed records are.
 */
async function replayInputs(
  server: ServerApp,
  plan: ReplayPlan,
  quarantine: ReplayQuarantine,
  o: { speed: number | null; signal: AbortSignal; say: (s: string) => void; maxLineBytes: number },
): Promise<ReplayResult> {
  const { say, speed, signal } = o;
  const r: ReplayResult = { records: 0, events: 0, blank: 0, malformed: 0, reasons: {}, aborted: false };
  const t0 = performance.now();
  let lastSay = t0;
  let firstTs: number | null = null;
  let wall0 = 0;
  let prevMaxTs: number | null = null;
  let chunk = speed === null ? REPLAY_CHUNK : 200;
  say(
    `--input: replaying ${plan.files.length === 1 ? plan.files[0] : `${plan.files.length} files`} through ingest ${speed === null ? 'as fast as possible' : `at ${speed}x the logs' clock`}`,
  );
  const source = new FileSource(plan.files, plan.files.join(' '));
  const sleep = (ms: number) =>
    new Promise<void>((done) => {
      const t = setTimeout(finish, ms);
      function finish() {
        clearTimeout(t);
        signal.removeEventListener('abort', finish);
        done();
      }
      signal.addEventListener('abort', finish);
    });
  const body = async (input: string, firstLine: number, text: string) => {
    quarantine.at(input, firstLine);
    const b = await server.ingest(text, { format: plan.format, envelope: 'none', source: input });
    r.records += b.records;
    r.events += b.events.length;
    r.blank += b.blank;
    r.malformed += b.malformed;
    for (const [k, v] of Object.entries(b.reasons))
      r.reasons[k as MalformedReason] = (r.reasons[k as MalformedReason] ?? 0) + v;
    if (b.maxTs === null) return;
    if (firstTs === null) {
      firstTs = b.events.reduce((m, e) => Math.min(e.ts, m), b.maxTs);
      wall0 = performance.now();
    }
    if (speed !== null) {
      // Adapt the chunk to ~250 ms of wall time at this speed, then wait for the last event's moment.
      const spanMs = prevMaxTs === null ? 0 : Math.max(0, b.maxTs - prevMaxTs) / speed;
      if (spanMs > 0) chunk = Math.max(20, Math.min(REPLAY_CHUNK, Math.round((chunk * 250) / spanMs)));
      const wait = wall0 + (b.maxTs - firstTs) / speed - performance.now();
      if (wait > 0) await sleep(wait);
    }
    if (prevMaxTs === null || b.maxTs > prevMaxTs) prevMaxTs = b.maxTs;
  };
  try {
    for await (const batch of source.read({
      framing: plan.framing,
      maxLineBytes: o.maxLineBytes,
      maxDocumentBytes: 512 * 1024 * 1024,
      sampleChars: 200,
      signal,
    })) {
      for (const rej of batch.rejects ?? []) {
        r.records++;
        r.malformed++;
        r.reasons[rej.reason] = (r.reasons[rej.reason] ?? 0) + 1;
        server.metrics.malformed.add([rej.reason], 1);
        quarantine.add(batch.input, rej.position, rej.reason, rej.message, rej.sample, rej.bytes);
      }
      const recs = batch.records;
      for (let i = 0; i < recs.length && !signal.aborted; ) {
        const n = plan.framing === 'document' ? 1 : Math.min(chunk, recs.length - i);
        await body(batch.input, batch.first + i, recs.slice(i, i + n).join('\n'));
        i += n;
        if (speed === null) await new Promise<void>((done) => setImmediate(done));
        if (performance.now() - lastSay >= 10_000) {
          lastSay = performance.now();
          say(`--input: ${int(r.events)} events replayed (${int(r.malformed)} malformed)`);
        }
      }
      if (signal.aborted) break;
    }
  } catch (e) {
    if (!signal.aborted) throw new CliError(`--input: ${(e as Error).message}`);
  }
  await quarantine.flush();
  if (signal.aborted) {
    r.aborted = true;
    say(`--input: replay stopped after ${int(r.events)} events`);
    return r;
  }
  // The open segment is judged now: the replay's last incidents do not wait for the next segment.
  await server.sink.endSegment?.();
  const reasons = Object.entries(r.reasons)
    .map(([k, v]) => `${k} ${int(v)}`)
    .join(', ');
  const p = server.sink.stats?.();
  say(
    `--input: replayed ${int(r.records)} records in ${duration(performance.now() - t0)}: ${int(r.events)} events, ${int(r.blank)} blank, ${int(r.malformed)} malformed${reasons === '' ? '' : ` (${reasons}; kept in the ingest quarantine)`}; ${p === undefined ? '' : `${int(p.segments)} segments, ${int(p.alerts)} alerts, ${int(p.incidents)} incidents`}`,
  );
  return r;
}
