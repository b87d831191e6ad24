/**
 * `apiwarden worker`: one member of the Kafka deployment (src/kafka/worker.ts, docs/scaling.md). Runs until
 * SIGINT or SIGTERM; prints a JSON stats line on stderr every --stats-every.
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { Normalizer } from '../core/normalize.js';
import { ParamProfile, ParamScorer } from '../detect/params.js';
import { IntelStore } from '../enrich/intel.js';
import { sensitiveResponseEndpoints } from '../inventory/catalog.js';
import { CheckpointStore } from '../kafka/checkpoint.js';
import { DEFAULT_PREFIX } from '../kafka/topology.js';
import { describe, type Stage, Worker } from '../kafka/worker.js';
import { buildParser } from '../parsers/registry.js';
import { parseDuration } from '../respond/policy.js';
import { Responder } from '../respond/workflow.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import { openState } from '../store/state/pg-state.js';
import { loadProfileFile } from './analyze.js';
import { CliError, cliConfig, type Io } from './parse.js';

export interface WorkerFlags {
  brokers?: string;
  topic?: string;
  group?: string;
  profile?: string;
  format?: string;
  logFormat?: string;
  config?: string;
  prefix?: string;
  partitions?: string;
  stages?: string;
  segment?: string;
  idle?: string;
  clientId?: string;
  statsEvery?: string;
}

const STAGES: readonly Stage[] = ['router', 'detect', 'incidents'];

function need(v: string | undefined, flag: string, what: string): string {
  if (v === undefined || v.trim() === '') throw new CliError(`${flag} is required: ${what}`, 2);
  return v.trim();
}

function durationFlag(v: string | undefined, flag: string, def: number, allowZero: boolean): number {
  if (v === undefined) return def;
  if (allowZero && v.trim() === '0') return 0;
  const msOnly = /^(\d+)\s*ms$/.exec(v.trim());
  const ms = msOnly !== null ? Number(msOnly[1]) : parseDuration(v);
  if (ms === null || ms <= 0)
    throw new CliError(
      `${flag} must be a duration such as 500ms, 10s or 5m${allowZero ? ', or 0' : ''}, got '${v}'`,
      2,
    );
  return ms;
}

export async function runWorker(f: WorkerFlags, io: Io): Promise<number> {
  const brokers = need(f.brokers, '--brokers', 'the Kafka bootstrap brokers, host:port[,host:port…]')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const b of brokers)
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) throw new CliError(`--brokers: '${b}' is not host:port`, 2);
  const topic = need(f.topic, '--topic', 'the input topic of log lines or JSON events');
  const group = need(f.group, '--group', 'the consumer group the workers share');
  const format = need(
    f.format,
    '--format',
    "the records' format (see `apiwarden formats`), e.g. combined or apisix",
  );
  const profilePath = need(
    f.profile,
    '--profile',
    'the profile to judge against (apiwarden profile / analyze)',
  );
  const stages = (f.stages ?? STAGES.join(',')).split(',').map((s) => s.trim()) as Stage[];
  for (const s of stages)
    if (!STAGES.includes(s))
      throw new CliError(`--stages: unknown stage '${s}' (known: ${STAGES.join(', ')})`, 2);
  const partitions = Number(f.partitions ?? '4');
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024)
    throw new CliError(`--partitions must be a whole number from 1 to 1024, got '${f.partitions}'`, 2);
  const segmentMs = durationFlag(f.segment, '--segment', 300_000, true);
  const idleMs = durationFlag(f.idle, '--idle', 5_000, false);
  const statsMs = durationFlag(f.statsEvery, '--stats-every', 10_000, true);
  const config = await cliConfig(f.config, { rules: true });
  // The same event options as `apiwarden analyze` (headers and bodies captured for the parameter scorer).
  const normalizer = new Normalizer({ ...config.events, captureHeaders: true, captureBodies: true });
  const logFormat = f.logFormat ?? config.input.logFormat;
  const built = buildParser(format, {
    normalizer,
    ...(logFormat ? { logFormat } : {}),
    ...(config.input.jsonMapping ? { jsonMapping: config.input.jsonMapping } : {}),
  });
  if (!built.ok) throw new CliError(`--format: ${built.error}`, 2);
  const profile = await loadProfileFile(profilePath);
  let scorer: ParamScorer | null = null;
  if (profile.params !== undefined) {
    try {
      scorer = new ParamScorer(ParamProfile.fromJSON(profile.params));
    } catch (e) {
      throw new CliError(`${profilePath}: params: ${(e as Error).message}`, 2);
    }
  }
  const url = process.env.DATABASE_URL;
  const needsDb = stages.includes('detect') || stages.includes('incidents');
  if (needsDb && (url === undefined || url === ''))
    throw new CliError(
      'DATABASE_URL is required for the detect and incidents stages (checkpoints and incidents live in PostgreSQL): postgres://USER@HOST:5432/DB',
      2,
    );
  // Threat intel as analyze takes it (evidence, and the behaviour model's intel columns when the profile was
  // learned with them); the lists refresh as configured while the worker runs.
  let intel: IntelStore | null = null;
  if (stages.includes('detect') && config.intel.sources.length > 0) {
    intel = await IntelStore.open(config.intel, { baseDir: dirname(resolve(f.config ?? '.')) });
    for (const st of intel.status())
      if (!st.healthy) io.stderr.write(`intel ${st.name}: ${st.lastError ?? 'not loaded'}\n`);
  }
  const checkpoints = stages.includes('detect') ? await CheckpointStore.open(url!) : null;
  const store = stages.includes('incidents') ? await openState({ databaseUrl: url! }) : null;
  // Severity in context: endpoints whose responses carry sensitive data, from the latest stored inventory
  // (apiwarden serve stores one; read once at start).
  const inventory = store === null ? undefined : await store.latestInventory();
  const answersSensitive = sensitiveResponseEndpoints(inventory?.value ?? { endpoints: [] });
  const responder = store === null ? null : new Responder(store, { policy: config.response, profile });
  const log = (m: string) => io.stderr.write(`${m}\n`);
  const worker = new Worker({
    brokers,
    topic,
    group,
    prefix: f.prefix ?? DEFAULT_PREFIX,
    partitions,
    stages,
    parser: built.parser,
    profile,
    detection: { rules: config.detection.rules, ...(intel === null ? {} : { intel }) },
    scorer,
    scanner: new SensitiveScanner(config.sensitive),
    segmentMs,
    idleMs,
    checkpoints,
    responder,
    ...(answersSensitive.size === 0 ? {} : { sensitiveOf: (ep: string) => answersSensitive.has(ep) }),
    clientId: f.clientId ?? `apiwarden-${process.pid}`,
    log,
    onFatal: (e) => {
      fatal ??= e;
      stop.abort();
    },
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  let fatal: Error | null = null;
  process.on('SIGTERM', onSignal);
  io.signal?.addEventListener('abort', onSignal);
  const printStats = () => io.stderr.write(`${JSON.stringify({ worker: worker.stats, at: Date.now() })}\n`);
  let timer: NodeJS.Timeout | null = null;
  try {
    await worker.start();
    if (statsMs > 0) timer = setInterval(printStats, statsMs);
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      stop.signal.addEventListener('abort', () => resolve());
    });
    if (fatal !== null) throw fatal;
  } catch (e) {
    throw new CliError(`worker: ${describe(e)}`);
  } finally {
    if (timer !== null) clearInterval(timer);
    process.off('SIGTERM', onSignal);
    await worker.close();
    printStats();
    await checkpoints?.close();
    intel?.close();
    await store?.close();
  }
  return 0;
}

export function registerWorker(program: Command, io: Io, setExit: (code: number) => void): Command {
  return program
    .command('worker')
    .description(
      'Run one Kafka worker: route, detect, and store incidents, sharing the work with others (docs/scaling.md)',
    )
    .option('--brokers <list>', 'Kafka bootstrap brokers, host:port[,host:port…]')
    .option('--topic <name>', 'the input topic: one log line or JSON event per record')
    .option(
      '--group <id>',
      'the consumer group the workers share (the stages use <id>, <id>.detect, <id>.incidents)',
    )
    .option('--profile <file>', 'the profile to judge against (written by apiwarden profile or analyze)')
    .option(
      '-f, --format <name>',
      "the records' format (see `apiwarden formats`; auto is not available here)",
    )
    .option(
      '--log-format <string>',
      'the nginx log_format / Apache LogFormat string, with --format nginx or apache',
    )
    .option(
      '-c, --config <file>',
      'YAML configuration: event options, detection rules, threat intel, response policy',
    )
    .option(
      '--prefix <name>',
      `prefix of the worker's topics (<prefix>.keyed, .alerts, .decisions, .dead-letter)`,
      DEFAULT_PREFIX,
    )
    .option('--partitions <n>', 'partitions of the keyed topic when this worker creates it (default 4)')
    .option('--stages <list>', `which stages this process runs (default ${STAGES.join(',')})`)
    .option(
      '--segment <duration>',
      'judge and report every this much event time; 0: only at end markers (default 5m)',
    )
    .option(
      '--idle <duration>',
      'an input partition quiet this long (wall time) is not waited for (default 5s)',
    )
    .option('--client-id <id>', 'Kafka client id (default apiwarden-<pid>)')
    .option(
      '--stats-every <duration>',
      'print a JSON stats line on stderr this often; 0: only at exit (default 10s)',
    )
    .addHelpText(
      'after',
      `
Environment:
  DATABASE_URL  postgres://USER@HOST:5432/DB: checkpoints and incidents (required for detect, incidents)

A record with the header apiwarden-control=end on every input partition ends a stretch: every open
segment is judged at once (replays, tests). Records that do not parse go to <prefix>.dead-letter with
the reason in the header apiwarden-reason.

Example:
  DATABASE_URL=postgres://apiwarden@db/apiwarden apiwarden worker --brokers kafka:9092 \\
    --topic nginx-access --group apiwarden --format combined --profile profile.json
`,
    )
    .action(async (flags: WorkerFlags) => {
      setExit(await runWorker(flags, io));
    });
}
