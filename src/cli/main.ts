/** The `apiwarden` command line. Each command lives in its own file; this one wires them and maps errors. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { FORMATS } from '../parsers/registry.js';
import { ATTACK_TYPES, ATTACKS } from '../simulate/attacks.js';
import { RENDER_FORMATS } from '../simulate/render.js';
import { type AnalyzeFlags, runAnalyze } from './analyze.js';
import { type DemoFlags, runDemo } from './demo.js';
import { type EvalFlags, runEval } from './eval.js';
import { type FeaturesFlags, runFeatures } from './features.js';
import { type InventoryFlags, runInventory } from './inventory.js';
import { CliError, type Io, type ParseFlags, runParse } from './parse.js';
import { packageRoot } from './paths.js';
import { type ProfileFlags, runProfile } from './profile.js';
import {
  type BacktestFlags,
  DEFAULT_STATE,
  type DecideFlags,
  type ExportFlags,
  type IncidentsFlags,
  runBacktest,
  runDecide,
  runExport,
  runIncidents,
} from './respond.js';
import { registerRun } from './run.js';
import { registerScore } from './score.js';
import { numberIn, registerServe, wholeNumber } from './serve.js';
import { DEFAULT_USERS, runSimulate, type SimulateFlags } from './simulate.js';
import { type IngestFlags, type QueryFlags, runIngest, runQuery } from './store.js';
import { registerWorker } from './worker.js';

const version = (): string =>
  (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a whole number, got '${v}'`);
  return n;
};

function formatsHelp(): string {
  const w = Math.max(...FORMATS.map((f) => f.name.length));
  return FORMATS.map((f) => `  ${f.name.padEnd(w)}  ${f.description}`).join('\n');
}

/**
 * The inputs and input options of the commands that read traffic into something (features, ingest): the same
 * flags as `apiwarden parse`, which documents them at more length.
 */
function readsTraffic(cmd: Command): Command {
  return cmd
    .argument(
      '[inputs...]',
      'files, directories or glob patterns, read oldest first; - or nothing reads stdin',
    )
    .option('-f, --format <name>', 'input format, or auto (see `apiwarden formats`)')
    .option(
      '--log-format <string>',
      'the nginx log_format / Apache LogFormat string, with --format nginx or apache',
    )
    .option('-c, --config <file>', 'YAML configuration file (see docs/configuration.md)')
    .option('--trusted-proxies <cidrs>', 'comma-separated CIDRs whose X-Forwarded-For is believed')
    .option('--device-header <name>', 'request header carrying a device id (default x-device-id)')
    .option('--quarantine <file>', 'where malformed records are kept (none to keep none)')
    .option('-q, --quiet', 'no progress, no summary')
    .option('--json', 'print a JSON summary')
    .addOption(new Option('--no-progress', 'no progress bar even on a terminal'));
}

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('apiwarden')
    .description(
      'API traffic anomaly detection and mitigation: reads gateway logs, learns your APIs, finds abuse.',
    )
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();

  program
    .command('parse')
    .description('Normalize logs (files, .gz, directories, globs, or - for stdin) into API events')
    .argument(
      '[inputs...]',
      'files, directories or glob patterns, read oldest first; - or nothing reads stdin',
    )
    .option(
      '-f, --format <name>',
      'input format, or auto to detect it from the first lines (see `apiwarden formats`)',
    )
    .option(
      '--log-format <string>',
      'the nginx log_format / Apache LogFormat string, with --format nginx or apache',
    )
    .option('-c, --config <file>', 'YAML configuration file (see docs/configuration.md)')
    .option(
      '-o, --out <file>',
      'write events to FILE.jsonl or FILE.parquet, or - for JSON lines on stdout; default: count only',
    )
    .option(
      '-F, --follow',
      'keep reading as files grow, across rotation and truncation (like tail -F); Ctrl-C stops',
    )
    .option(
      '--quarantine <file>',
      'where malformed records are kept (default: OUT.quarantine.jsonl, or apiwarden-quarantine.jsonl; none to keep none)',
    )
    .option(
      '--max-quarantine <n>',
      'keep at most N malformed records (all are counted; default 1000)',
      positiveInt('--max-quarantine'),
    )
    .option(
      '--trusted-proxies <cidrs>',
      'comma-separated CIDRs whose X-Forwarded-For is believed (default: loopback and private ranges; none to trust nobody)',
    )
    .option('--device-header <name>', 'request header carrying a device id (default x-device-id)')
    .option('--capture-headers', 'keep request/response headers on events (credentials redacted)')
    .option('--capture-bodies', 'keep request/response bodies on events (password-like fields redacted)')
    .option(
      '--max-body-bytes <n>',
      'cut captured bodies to N bytes (default 4096)',
      positiveInt('--max-body-bytes'),
    )
    .option(
      '--max-line-bytes <n>',
      'longer lines are counted as malformed without being buffered (default 1048576)',
      positiveInt('--max-line-bytes'),
    )
    .option('-q, --quiet', 'no progress bar, no summary')
    .option('--json', 'print the end-of-run summary as JSON (on stdout, or stderr when events go to stdout)')
    .addOption(new Option('--no-progress', 'no progress bar even on a terminal'))
    .addHelpText(
      'after',
      `\nFormats:\n${formatsHelp()}\n\nExamples:\n  apiwarden parse /var/log/nginx/access.log* --out events.parquet\n  apiwarden parse --format nginx --log-format '$remote_addr [$time_local] "$request" $status $request_time' app.log\n  kubectl logs deploy/gateway | apiwarden parse - --out - | jq .path\n`,
    )
    .action(async (inputs: string[], flags: ParseFlags) => {
      setExit(await runParse(inputs, flags, io));
    });

  program
    .command('formats')
    .description('List the input formats apiwarden reads')
    .action(() => {
      io.stdout.write(
        `${formatsHelp()}\n\nauto-detection tries every format that needs no options; see docs/formats.md\n`,
      );
      setExit(0);
    });

  program
    .command('inventory')
    .description(
      'Build the API inventory of traffic: endpoints, parameters, auth, scenarios; OpenAPI export; diff against a spec',
    )
    .argument(
      '[inputs...]',
      'files, directories or glob patterns, read oldest first; - or nothing reads stdin',
    )
    .requiredOption(
      '-o, --out <dir>',
      'directory for inventory.json, openapi.yaml and (with --spec) spec-diff.json',
    )
    .option(
      '--spec <file>',
      'an OpenAPI 3.0 / 3.1 spec (YAML or JSON): its templates are used first, and the diff is written',
    )
    .option('-f, --format <name>', 'input format, or auto (see `apiwarden formats`)')
    .option(
      '--log-format <string>',
      'the nginx log_format / Apache LogFormat string, with --format nginx or apache',
    )
    .option('-c, --config <file>', 'YAML configuration file (see docs/configuration.md)')
    .option(
      '--min-cardinality <n>',
      'distinct word-like values at one path position that make it a parameter (default 20)',
      positiveInt('--min-cardinality'),
    )
    .option(
      '--trusted-proxies <cidrs>',
      'comma-separated CIDRs whose X-Forwarded-For is believed (default: loopback and private ranges)',
    )
    .option('--device-header <name>', 'request header carrying a device id (default x-device-id)')
    .addOption(
      new Option(
        '--no-bodies',
        'do not read request/response bodies and headers (parameters from the query only)',
      ),
    )
    .option(
      '--quarantine <file>',
      'where malformed records are kept (default DIR/quarantine.jsonl; none to keep none)',
    )
    .option('-q, --quiet', 'no progress, no summary')
    .option('--json', 'print a JSON summary instead of the table')
    .addOption(new Option('--no-progress', 'no progress bar even on a terminal'))
    .addHelpText(
      'after',
      '\nSee docs/inventory.md for the inventory.json schema and how templates are decided.\n\nExamples:\n  apiwarden inventory /var/log/nginx/access.log* --out inv/\n  apiwarden inventory gateway.jsonl --out inv/ --spec openapi.yaml\n',
    )
    .action(async (inputs: string[], flags: InventoryFlags) => {
      setExit(await runInventory(inputs, flags, io));
    });

  readsTraffic(program.command('features'))
    .description(
      'Compute feature snapshots (keyed windows) of traffic; the default set or your specs (docs/features.md)',
    )
    .requiredOption('-o, --out <file>', 'FILE.jsonl or FILE.parquet: one row per feature, key and window')
    .option('--store <dir>', 'read events from the event store instead of inputs (see apiwarden ingest)')
    .option('--specs <file>', 'YAML list of feature specs (default: the built-in set)')
    .option('--engine <name>', 'stream (default) or batch (SQL over --store; the same rows)')
    .option(
      '--max-keys <n>',
      'keys tracked at once per feature group (default 200000)',
      positiveInt('--max-keys'),
    )
    .action(async (inputs: string[], flags: FeaturesFlags) => {
      setExit(await runFeatures(inputs, flags, io));
    });

  readsTraffic(program.command('ingest'))
    .description('Parse and enrich traffic and append it to the event store (hourly Parquet, docs/store.md)')
    .requiredOption('--store <dir>', 'the store directory (events/date=…/hour=…/part-N.parquet)')
    .option(
      '--retention-hours <n>',
      'delete hour partitions older than N hours before the newest event',
      positiveInt('--retention-hours'),
    )
    .action(async (inputs: string[], flags: IngestFlags) => {
      setExit(await runIngest(inputs, flags, io));
    });

  registerScore(readsTraffic(program.command('score')), io, setExit);

  readsTraffic(program.command('analyze'))
    .description(
      'Detect abuse: learn the profile (or take --profile), judge every event, write alerts, incidents and a report (docs/output.md)',
    )
    .requiredOption(
      '-o, --out <dir>',
      'directory for alerts.jsonl, incidents.jsonl, inventory.json, profile.json, summary.json, report.html',
    )
    .option(
      '--profile <file>',
      'judge against this profile (apiwarden profile) instead of learning one from the inputs',
    )
    .option(
      '--store <dir>',
      'read the event store (apiwarden ingest) instead of inputs: the offline path over history (no bodies there: no parameter scores)',
    )
    .option(
      '--state <dir>',
      'also import the incidents into this response state and apply the policy of --config (DATABASE_URL: PostgreSQL instead); docs/operations.md',
    )
    .addHelpText(
      'after',
      '\nWithout --profile the inputs are read twice: once to learn thresholds, once to judge.\nExample:\n  apiwarden analyze access.log --out results/ && apiwarden eval --labels labels.json --incidents results/incidents.jsonl\n',
    )
    .action(async (inputs: string[], flags: AnalyzeFlags) => {
      setExit(await runAnalyze(inputs, flags, io));
    });

  readsTraffic(program.command('profile'))
    .description(
      'Learn per-endpoint thresholds from traffic (DBSCAN per period, docs/profiling.md); `profile show FILE` prints the limits',
    )
    .option('-o, --out <file>', 'where to write the profile (JSON)')
    .option('--store <dir>', 'learn from the event store instead of inputs')
    .option('--endpoint <text>', 'profile show: only endpoints containing this text')
    .addHelpText(
      'after',
      '\nExamples:\n  apiwarden profile access.log --out profile.json\n  apiwarden profile --store st/ --out profile.json\n  apiwarden profile show profile.json --endpoint login\n',
    )
    .action(async (inputs: string[], flags: ProfileFlags) => {
      setExit(await runProfile(inputs, flags, io));
    });

  program
    .command('eval')
    .description(
      "Score incidents against ground truth (the simulator's labels.json): recall, latency, benign flagged",
    )
    .requiredOption('--labels <file>', 'labels.json written by apiwarden simulate')
    .requiredOption('--incidents <file>', 'incidents.jsonl written by apiwarden analyze')
    .option('--summary <file>', 'summary.json of the analysis (default: beside the incidents)')
    .option('--scores <file>', 'request scores (default: request-scores.jsonl beside the incidents, if any)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: EvalFlags) => {
      setExit(await runEval(flags, io));
    });

  const stateOption = (cmd: Command): Command =>
    cmd
      .option('--state <dir>', `the response state directory (default ./${DEFAULT_STATE})`)
      .option('-c, --config <file>', 'YAML configuration: the response policy (docs/operations.md)')
      .option('--by <name>', 'who does it, for the audit log (default: $USER)')
      .option('--json', 'print JSON');

  stateOption(program.command('incidents'))
    .description(
      'The incident workflow: list, show, import, transition, assign, note, audit (docs/operations.md)',
    )
    .argument(
      '[command...]',
      'list | show ID | import FILE | transition ID STATUS | assign ID NAME | note ID TEXT | audit [ID]',
    )
    .option('--profile <file>', 'import: rate limits from this profile; transition false_positive: teach it')
    .option('--status <status>', 'list: only this status')
    .option('--type <type>', 'list: only incidents with this anomaly type')
    .option('--min-severity <severity>', 'list: at least this severity (low, medium, high, critical)')
    .option('--limit <n>', 'list: at most N incidents', positiveInt('--limit'))
    .option('--note <text>', 'transition: a note for the record')
    .option('--assignee <name>', 'transition: assign at the same time')
    .option('--verify', 'audit: check the hash chain of the audit log')
    .addHelpText(
      'after',
      "\nStatuses: new -> triaged -> confirmed | false_positive -> mitigated -> resolved (reopen: triaged).\nA false positive revokes the incident's decisions, allow-lists its actors and, with --profile, teaches the profile.\nExamples:\n  apiwarden incidents import results/incidents.jsonl --profile results/profile.json\n  apiwarden incidents list --status new --min-severity high\n  apiwarden incidents transition inc-0123456789abcdef triaged --assignee alice --note 'looking'\n  apiwarden incidents transition inc-0123456789abcdef false_positive --profile results/profile.json\n",
    )
    .action(async (args: string[], flags: IncidentsFlags) => {
      setExit(await runIncidents(args, flags, io));
    });

  stateOption(program.command('decide'))
    .description('Decisions: list, apply the policy, approve, revoke, expire, or take one by hand')
    .option('--list', 'list decisions (with --status)')
    .option('--status <status>', 'list: proposed, active, expired or revoked')
    .option(
      '--incident <id>',
      'apply the policy to this incident (or, with --action, tie a manual decision to it)',
    )
    .option('--pending', 'apply the policy to every incident without decisions')
    .option('--approve <id>', 'approve a proposed decision (a confirmed incident becomes mitigated)')
    .option('--revoke <id>', 'revoke a decision')
    .option('--expire', 'mark decisions past their TTL as expired')
    .option('--action <action>', 'take a decision by hand: block, rate_limit or challenge')
    .option('--scope <kind:value>', 'with --action: ip:…, cidr:…, token:…, user:… or device:…')
    .option('--endpoint <endpoint>', "with --action: only this endpoint, e.g. 'POST /api/v1/auth/login'")
    .option('--ttl <duration>', 'with --action: 30m, 1h, 7d or none (default 1h)')
    .option('--rate <limit>', 'with --action rate_limit: 30/m, 100/5m, 10/s (default 60/m)')
    .option('--reason <text>', 'why (kept in the decision and the audit log)')
    .option('--profile <file>', 'rate limits from this profile')
    .addHelpText(
      'after',
      "\nExamples:\n  apiwarden decide --list --status proposed\n  apiwarden decide --approve dec-0123456789abcdef\n  apiwarden decide --action block --scope cidr:203.0.113.0/24 --ttl 24h --reason 'botnet'\n",
    )
    .action(async (flags: DecideFlags) => {
      setExit(await runDecide(flags, io));
    });

  stateOption(program.command('backtest'))
    .description('What decisions would have hit over the stored history: requests, actors, collateral damage')
    .requiredOption('--store <dir>', 'the event store (apiwarden ingest)')
    .option('--decision <id...>', 'these decisions (default: proposed and active ones)')
    .option('--all', 'every decision in the state, whatever its status')
    .option(
      '--scope <kind:value>',
      'a hypothetical decision instead: ip:…, cidr:…, token:…, user:…, device:…',
    )
    .option('--action <action>', 'with --scope: block (default), rate_limit or challenge')
    .option('--endpoint <endpoint>', 'with --scope: only this endpoint')
    .option('--rate <limit>', 'with --scope and rate_limit: 30/m, 100/5m, 10/s (default 60/m)')
    .option('--from <time>', 'from this ISO 8601 time')
    .option('--to <time>', 'before this ISO 8601 time')
    .addHelpText(
      'after',
      '\nCollateral: actors hit that are in no incident of the state (incidents import brings them in).\nExamples:\n  apiwarden backtest --store st/ --state st-state/\n  apiwarden backtest --store st/ --scope cidr:203.0.113.0/24\n',
    )
    .action(async (flags: BacktestFlags) => {
      setExit(await runBacktest(flags, io));
    });

  stateOption(program.command('export'))
    .description(
      'Active decisions as real WAF configuration: ModSecurity / Coraza, nginx, AWS WAF, Cloudflare, a blocklist',
    )
    .requiredOption('--target <target>', `one of ${'modsecurity, nginx, aws-waf, cloudflare, blocklist'}`)
    .requiredOption('-o, --out <dir>', 'directory to write the configuration files into')
    .option('--aws-scope <scope>', 'aws-waf: REGIONAL (default) or CLOUDFRONT')
    .addHelpText(
      'after',
      '\nOnly active, unexpired decisions are exported; scopes a target cannot express (token ids, users) are listed with the reason.\nHow to load each file: docs/exporters.md.\nExamples:\n  apiwarden export --target nginx --out /etc/nginx/apiwarden/ && nginx -t && nginx -s reload\n  apiwarden export --target aws-waf --out waf/ --aws-scope CLOUDFRONT\n',
    )
    .action(async (flags: ExportFlags) => {
      setExit(await runExport(flags, io));
    });

  program
    .command('query')
    .description('Forensics over the event store: your SQL (view `events`), or ready questions')
    .requiredOption('--store <dir>', 'the store directory')
    .option('--sql <query>', 'SQL over the view `events` (columns in docs/store.md)')
    .option('--actor <kind:value>', 'timeline of one actor: ip:1.2.3.4, device:…, token:…, user:…')
    .option('--endpoint <endpoint>', "hourly activity of one endpoint, e.g. 'GET /api/v1/products/{id}'")
    .option('--top <kind>', 'top talkers: ip, device, token, user or endpoint')
    .option('--from <time>', 'ready questions: from this ISO 8601 time')
    .option('--to <time>', 'ready questions: before this ISO 8601 time')
    .option('--limit <n>', 'at most N rows for ready questions (default 100)', positiveInt('--limit'))
    .option('--output <kind>', 'table (default), csv or json (one object per line)')
    .addHelpText(
      'after',
      "\nExamples:\n  apiwarden query --store st/ --top ip --from 2026-03-02T10:00:00Z --to 2026-03-02T11:00:00Z\n  apiwarden query --store st/ --actor ip:203.0.113.7 --output csv\n  apiwarden query --store st/ --sql 'SELECT scenario, count(*) FROM events GROUP BY 1'\n",
    )
    .action(async (flags: QueryFlags) => {
      setExit(await runQuery(flags, io));
    });

  program
    .command('simulate')
    .description(
      'Write labeled synthetic traffic of a shop API (benign users, bots and attack campaigns) in log formats',
    )
    .requiredOption(
      '-o, --out <dir>',
      'directory to write the logs, labels.json, routes.json, truth.csv and summary.json into',
    )
    .option('--hours <h>', 'simulated duration in hours (default 24)')
    .option(
      '--users <n>',
      'registered customers; guests are half as many again (default 14000, ~250k requests a day)',
    )
    .option('--seed <n>', 'random seed: the same seed and options give the same bytes (default 1)')
    .option('--start <time>', 'first instant, ISO 8601 (default 2026-03-02T00:00:00Z, a Monday)')
    .option(
      '--formats <list>',
      `comma-separated output formats, or all (default combined,apisix): ${RENDER_FORMATS.join(', ')}`,
    )
    .option('--attacks <list>', 'comma-separated attack campaigns, all (default) or none; see below')
    .option('--attack-scale <x>', "multiplies every campaign's size: requests, bots (default 1)")
    .option(
      '--warmup <h>',
      'attack-free hours at the start, for baselines (default: a quarter of the run, at most 6)',
    )
    .option('--gzip', 'gzip every output file (.gz)')
    .option('-q, --quiet', 'no progress, no summary')
    .option('--json', 'print the summary as JSON')
    .addOption(new Option('--no-progress', 'no progress line even on a terminal'))
    .addHelpText(
      'after',
      `\nAttack campaigns:\n${ATTACK_TYPES.map((t) => `  ${t.padEnd(20)} ${ATTACKS[t].description}`).join('\n')}\n\nExamples:\n  apiwarden simulate --out sim/ --hours 24 --formats all\n  apiwarden simulate --out sim/ --hours 6 --users 2000 --attacks crawler,scanner --attack-scale 2\n`,
    )
    .action(async (flags: SimulateFlags) => {
      setExit(await runSimulate(flags, io));
    });

  registerServe(program, io, setExit);
  registerWorker(program, io, setExit);
  registerRun(program, io, setExit);

  program
    .command('demo')
    .description(
      'The live demo (what `npm start` runs): simulated shop-API traffic with attacks, replayed through the server and its dashboard (docs/demo.md)',
    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', wholeNumber('--port', 0, 65535), 8080)
    .option(
      '--speed <x>',
      'simulated seconds per wall second (60: an hour of traffic a minute)',
      numberIn('--speed', 1, 100_000),
    )
    .option(
      '--seed <n>',
      'the simulated world (customers, partners; campaigns vary per stretch)',
      wholeNumber('--seed', 0, 2 ** 32 - 1),
    )
    .option(
      '--users <n>',
      `registered customers (default ${DEFAULT_USERS}: about 10,000 requests per simulated hour)`,
      wholeNumber('--users', 50, 1_000_000),
    )
    .option(
      '--data-dir <dir>',
      "keep the demo's state and event store here (new, empty, or a previous demo's: it starts from scratch); default: a temporary directory removed at exit",
    )
    .option('--once', 'replay one stretch (2 simulated hours, every attack type), then stop')
    .option('--offline', 'the offline demo instead: simulate a day into files, report, analyze, score, exit')
    .option(
      '-o, --out <dir>',
      'the offline demo (implies --offline), writing the simulated logs here (default: apiwarden-demo in the temp directory)',
    )
    .addHelpText(
      'after',
      `
The live demo learns a profile from 12 simulated hours (about 20 s), then serves the API and the dashboard and
replays fresh traffic at --speed with attack campaigns (every type in the first 2 simulated hours, a seeded mix
after), until Ctrl-C. The console shows the dashboard URL (the admin token in its #fragment) and a progress line
every 10 s.

Examples:
  npm start                                   # = apiwarden demo
  apiwarden demo --port 0 --speed 300         # any free port, 5 simulated hours a minute
  apiwarden demo --data-dir demo-data         # keep the state and the event store afterwards
  apiwarden demo --offline --out sim/         # the file-based demo: report, analyze, eval
`,
    )
    .action(async (flags: DemoFlags) => {
      setExit(await runDemo(io, flags));
    });

  return program;
}

/** Runs the CLI; returns the exit code. Expected failures print one line, never a stack trace. */
export async function main(argv: string[], io?: Io): Promise<number> {
  const ac = new AbortController();
  const realIo: Io = io ?? {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    signal: ac.signal,
  };
  let code = 0;
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  if (!io) process.on('SIGINT', onSigint);
  try {
    const program = buildProgram(realIo, (c) => {
      code = c;
    });
    if (argv.length <= 2) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof CliError) {
      realIo.stderr.write(`apiwarden: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  } finally {
    if (!io) process.off('SIGINT', onSigint);
  }
}
