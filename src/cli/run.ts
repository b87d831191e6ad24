/**
 * `apiwarden run --follow FILE`: live detection without Kafka. Follows growing logs (rotation and
 * truncation handled by src/sources/follow.ts) through the same in-process pipeline as the server's ingest
 * (src/server/pipeline.ts: Enricher → ParamScorer → DetectionRun, finished every --segment of wall time),
 * stores each segment's incidents through the Responder (the state directory, or PostgreSQL with
 * DATABASE_URL), and prints every incident as a JSON line on stdout. Runs until SIGINT.
 */
import type { Command } from 'commander';
import { incidentEvent } from '../respond/notify.js';
import { parseDuration } from '../respond/policy.js';
import { Responder } from '../respond/workflow.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import { DetectionPipeline } from '../server/pipeline.js';
import { loadProfileFile } from './analyze.js';
import { CliError, cliConfig, type Io, parseInputs } from './parse.js';
import { DEFAULT_STATE, openStateStore, sendNotifications } from './state.js';

export interface RunFlags {
  follow?: boolean;
  format?: string;
  logFormat?: string;
  config?: string;
  profile?: string;
  segment?: string;
  state?: string;
  quiet?: boolean;
}

export async function runRun(files: string[], f: RunFlags, io: Io): Promise<number> {
  if (f.follow !== true)
    throw new CliError(
      'run needs --follow (it follows growing logs; judge finished files with apiwarden analyze)',
      2,
    );
  if (files.length === 0 || files.includes('-'))
    throw new CliError('--follow needs files to follow, not stdin', 2);
  if (f.profile === undefined)
    throw new CliError(
      '--profile FILE is required: the profile to judge against (apiwarden profile / analyze)',
      2,
    );
  const segmentMs = f.segment === undefined ? 300_000 : parseDuration(f.segment);
  if (segmentMs === null || segmentMs <= 0)
    throw new CliError(`--segment must be a duration such as 1s, 1m or 5m, got '${f.segment}'`, 2);
  const config = await cliConfig(f.config, { rules: true });
  const profile = await loadProfileFile(f.profile);
  const store = await openStateStore(f.state ?? DEFAULT_STATE);
  const responder = new Responder(store, { policy: config.response, profile, mergeOpen: true });
  const log = (m: string) => io.stderr.write(`${m}\n`);
  const pipeline = new DetectionPipeline({
    profile,
    detection: { rules: config.detection.rules },
    scanner: new SensitiveScanner(config.sensitive),
    segmentMs,
    log,
    onSegment: async (r) => {
      const res = await responder.ingest(r.incidents, 'run');
      // What the state now holds for each incident this segment opened or changed (a behaviour that goes on
      // from an earlier segment is folded into that open incident: the line carries its id).
      for (const i of [...res.created, ...res.updated]) io.stdout.write(`${JSON.stringify(i)}\n`);
      if (!f.quiet)
        log(
          `segment: ${r.events} events, ${r.alerts.length} alerts, ${r.incidents.length} incidents (${res.created.length} new, ${res.updated.length} updated), ${res.decisions.length} decisions`,
        );
      await sendNotifications(
        config,
        [
          ...res.created.map((i) => incidentEvent(i, 'incident.new')),
          ...res.updated.map((i) => incidentEvent(i, 'incident.updated')),
        ],
        io,
      );
    },
  });
  try {
    await parseInputs(
      files,
      {
        follow: true,
        ...(f.format === undefined ? {} : { format: f.format }),
        ...(f.logFormat === undefined ? {} : { logFormat: f.logFormat }),
        ...(f.config === undefined ? {} : { config: f.config }),
        captureHeaders: true,
        captureBodies: true,
        quiet: true,
        progress: false,
      },
      io,
      pipeline,
    );
  } finally {
    await pipeline.close();
    await store.close();
  }
  return 0;
}

export function registerRun(program: Command, io: Io, setExit: (code: number) => void): Command {
  return program
    .command('run')
    .description('Follow growing logs and detect live, in one process (no Kafka); incidents into the state')
    .argument('<files...>', 'log files to follow (rotation and truncation are handled)')
    .option('--follow', 'follow the files as they grow (required)')
    .option('-f, --format <name>', 'input format, or auto (see `apiwarden formats`)')
    .option(
      '--log-format <string>',
      'the nginx log_format / Apache LogFormat string, with --format nginx or apache',
    )
    .option(
      '-c, --config <file>',
      'YAML configuration: event options, detection rules, response policy, notifications',
    )
    .option('--profile <file>', 'the profile to judge against (apiwarden profile / analyze) (required)')
    .option('--segment <duration>', 'judge and store incidents this often, wall time (default 5m)')
    .option('--state <dir>', `the state directory, unless DATABASE_URL is set (default ${DEFAULT_STATE})`)
    .option('-q, --quiet', 'no segment lines on stderr')
    .addHelpText(
      'after',
      `
Environment:
  DATABASE_URL  postgres://USER@HOST:5432/DB: incidents in PostgreSQL instead of the state directory

Every incident a segment opens or changes is stored and printed as a JSON line on stdout, as the state
holds it (ids derive from content; a behaviour that goes on from an earlier segment is folded into that
open incident and printed again with its id). Stop with Ctrl-C: the open segment is judged and stored first. Files that exist at the
start are read from their beginning (config input.startAt: end to skip what they hold).

Example:
  apiwarden run --follow /var/log/nginx/access.log --profile profile.json --segment 1m
`,
    )
    .action(async (files: string[], flags: RunFlags) => {
      setExit(await runRun(files, flags, io));
    });
}
