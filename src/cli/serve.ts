/**
 * `apiwarden serve`: the JSON API, HTTP ingest, live updates and metrics of src/server/ behind a listener
 * (docs/server.md). State in PostgreSQL when DATABASE_URL is set, else PGlite under the data directory. On
 * the very first start (no users yet) it creates the `admin` user and prints its token once, on stderr.
 * SIGINT or SIGTERM stops it gracefully: live streams end, requests in flight finish, the live pipeline's
 * open segment is judged and stored, the state is closed.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/load.js';
import { type Config, defaultConfig } from '../config/schema.js';
import { secretScrubber } from '../core/identity.js';
import { Quarantine } from '../pipeline/quarantine.js';
import { createNotifier, type Notifier } from '../respond/notify.js';
import { parseDuration } from '../respond/policy.js';
import { StateError } from '../respond/state.js';
import { createApp, DEFAULT_INGEST_RATE, DEFAULT_MAX_BODY_BYTES } from '../server/app.js';
import { type Listening, listen } from '../server/listen.js';
import { openState, type PgStateStore } from '../store/state/pg-state.js';
import { CliError, type Io } from './parse.js';

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
`,
    )
    .action(async (flags: ServeFlags) => {
      setExit(await runServe(flags, io));
    });
}

async function configOf(path: string | undefined): Promise<Config> {
  if (path === undefined) return defaultConfig();
  const c = await loadConfig(path);
  if (!c.ok) throw new CliError(c.error.join('\n'), 2);
  return c.value;
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
  const config = await configOf(f.config);
  const segmentMs = f.segment === undefined ? undefined : parseDuration(f.segment);
  if (segmentMs === null)
    throw new CliError(`--segment must be a duration such as 1m, 5m or 1h, got '${f.segment}'`, 2);
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
    const quarantine = new Quarantine({
      path: join(dataDir, 'ingest-quarantine.jsonl'),
      maxRecords: config.quarantine.maxRecords,
      sampleChars: config.quarantine.sampleChars,
      scrub: secretScrubber([...ev.credentialQueryKeys, ...ev.credentialCookies]),
    });
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
      ...(segmentMs === undefined ? {} : { pipeline: { segmentMs } }),
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
      `listening on ${listening.url} (state ${state.location}${f.store === undefined ? '' : `; store ${resolve(f.store)}`}; live detection ${detecting ? 'on' : 'off until a profile is stored (PUT /api/v1/profile)'})`,
    );
    const why = await stopRequested(io);
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
