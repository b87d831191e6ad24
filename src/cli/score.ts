/**
 * `apiwarden score`: forged-parameter detection per request (docs/params.md). Learns a param profile from
 * training traffic (`--train`) or reads one (`--profile`), scores every request of the inputs against it,
 * writes the scores as JSON lines and prints what it found.
 */
import { createWriteStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ApiEvent } from '../core/event.js';
import { type Check, ParamProfile, ParamProfiler, ParamScorer, ProfileError } from '../detect/params.js';
import type { EventSink } from '../sinks/types.js';
import { duration, int, rate, terminalSafe } from './human.js';
import {
  CliError,
  humanSummary,
  type Io,
  type ParseFlags,
  type ParseSummary,
  parseInputs,
  readFlagFile,
} from './parse.js';

export interface ScoreFlags extends ParseFlags {
  profile?: string;
  train?: string[];
  saveProfile?: string;
  minScore?: number;
  bodies?: boolean;
  top?: number;
}

/** Parses a score threshold in [0, 1]. */
function scoreArg(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError(`--min-score must be a number from 0 to 1, got '${v}'`);
  return n;
}

function countArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`--top must be a whole number, got '${v}'`);
  return n;
}

/**
 * Adds `score`'s options and action to a command that already has the shared input options (main.ts's
 * `readsTraffic`): `registerScore(readsTraffic(program.command('score')), io, setExit)`.
 */
export function registerScore(cmd: Command, io: Io, setExit: (code: number) => void): Command {
  return cmd
    .description(
      'Score each request for forged parameters against a profile learned from traffic (docs/params.md)',
    )
    .option(
      '--profile <file>',
      'the param profile to score against; with --train, learned and written here if missing',
    )
    .option('--train <inputs...>', 'learn the profile from these inputs first (files, directories, globs)')
    .option(
      '--save-profile <file>',
      'write the learned profile here (overwritten); with no inputs, only trains',
    )
    .option('-o, --out <file>', 'write scored requests as JSON lines to FILE (- for stdout)')
    .option(
      '--min-score <x>',
      'requests scoring at least X are flagged and written (default 0.5; 0 writes all)',
      scoreArg,
    )
    .option('--top <n>', 'flagged requests listed in the summary (default 10)', countArg)
    .addOption(new Option('--no-bodies', 'do not read request bodies (parameters from path and query only)'))
    .addHelpText(
      'after',
      `
The profile: --profile P reads P. --train T learns from T in memory; add --save-profile P to keep it, or
--profile P to learn from T only when P does not exist yet (and write it). Put --train after the inputs
(it takes every argument up to the next option).

Each output line: {"line", "source", "ts", "ip", "endpoint", "status", "score", "trained", "reasons":
[{"param", "check", "observed", "expected", "weight"}]}; checks: type, range, length, charset, enum, format,
missing, unknown_param, relation, status.

Examples:
  apiwarden score today.log --train last-week/*.log --out scores.jsonl
  apiwarden score --train last-week/*.log --save-profile profile.json
  apiwarden score today.log --profile profile.json --min-score 0.8 --out - | jq .reasons
`,
    )
    .action(async (inputs: string[], flags: ScoreFlags) => {
      setExit(await runScore(inputs, flags, io));
    });
}

/** Feeds training events to a profiler. */
class TrainSink implements EventSink {
  constructor(readonly profiler: ParamProfiler) {}
  async write(events: readonly ApiEvent[]): Promise<void> {
    for (const e of events) this.profiler.add(e);
  }
  async close(): Promise<void> {}
}

interface ReasonTally {
  endpoint: string;
  param: string;
  check: Check;
  count: number;
}

export interface FlaggedRequest {
  line: number;
  source: string;
  endpoint: string;
  score: number;
  reason: string;
}

/** Scores events, writes the lines at or above the threshold, and keeps the summary's counts. */
class ScoreSink implements EventSink {
  scored = 0;
  flagged = 0;
  unseen = 0;
  scoringMs = 0;
  readonly byCheck: Partial<Record<Check, number>> = {};
  readonly reasons = new Map<string, ReasonTally>();
  readonly top: FlaggedRequest[] = [];
  private readonly out: Writable | null;
  private readonly owned: boolean;
  private failure: Error | null = null;

  constructor(
    private readonly scorer: ParamScorer,
    private readonly minScore: number,
    private readonly topN: number,
    target: string | Writable | null,
  ) {
    this.owned = typeof target === 'string';
    this.out = typeof target === 'string' ? createWriteStream(target, { highWaterMark: 1 << 20 }) : target;
    this.out?.on('error', (e) => {
      this.failure = e;
    });
  }

  async write(events: readonly ApiEvent[]): Promise<void> {
    if (this.failure) throw this.failure;
    let chunk = '';
    const t0 = performance.now();
    for (const e of events) {
      const s = this.scorer.score(e);
      this.scored++;
      if (s.trained === 0) this.unseen++;
      if (s.score < this.minScore || (this.minScore > 0 && s.score === 0)) continue;
      if (s.score > 0) {
        this.flagged++;
        for (const r of s.reasons) {
          this.byCheck[r.check] = (this.byCheck[r.check] ?? 0) + 1;
          const k = `${s.endpoint}\n${r.param}\n${r.check}`;
          const t = this.reasons.get(k);
          if (t !== undefined) t.count++;
          else if (this.reasons.size < 10_000)
            this.reasons.set(k, { endpoint: s.endpoint, param: r.param, check: r.check, count: 1 });
        }
        this.keepTop({
          line: e.origin.line,
          source: e.origin.source,
          endpoint: s.endpoint,
          score: s.score,
          reason:
            s.reasons[0] === undefined
              ? ''
              : `${s.reasons[0].check} ${s.reasons[0].param}: ${s.reasons[0].observed}`,
        });
      }
      if (this.out !== null)
        chunk += `${JSON.stringify({
          line: e.origin.line,
          source: e.origin.source,
          ts: e.ts,
          ip: e.ip,
          endpoint: s.endpoint,
          status: e.status,
          score: s.score,
          trained: s.trained,
          reasons: s.reasons,
        })}\n`;
    }
    this.scoringMs += performance.now() - t0;
    if (this.out !== null && chunk !== '' && !this.out.write(chunk))
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.out!.off('error', onError);
          resolve();
        };
        const onError = (e: Error) => {
          this.out!.off('drain', onDrain);
          reject(e);
        };
        this.out!.once('drain', onDrain);
        this.out!.once('error', onError);
      });
    if (this.failure) throw this.failure;
  }

  private keepTop(f: FlaggedRequest): void {
    if (this.topN === 0) return;
    if (this.top.length === this.topN && f.score <= this.top.at(-1)!.score) return;
    this.top.push(f);
    this.top.sort((a, b) => b.score - a.score || a.line - b.line);
    if (this.top.length > this.topN) this.top.length = this.topN;
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.owned || this.out === null) return;
    const out = this.out;
    await new Promise<void>((resolve, reject) => {
      out.end((e?: Error | null) => (e ? reject(e) : resolve()));
    });
  }
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

async function loadProfile(path: string): Promise<ParamProfile> {
  const text = await readFlagFile(path, '--profile');
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new CliError(`${path}: not JSON (a param profile is written by apiwarden score --save-profile)`);
  }
  try {
    return ParamProfile.fromJSON(j);
  } catch (e) {
    if (e instanceof ProfileError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
}

export interface ScoreSummary {
  profile: {
    source: 'trained' | 'file';
    path: string | null;
    saved: string | null;
    requests: number;
    endpoints: number;
    from: string | null;
    to: string | null;
  };
  training: ParseSummary | null;
  parse: ParseSummary | null;
  scored: number;
  flagged: number;
  minScore: number;
  /** Requests on endpoints the profile does not have (scored 0). */
  unseen: number;
  byCheck: Partial<Record<Check, number>>;
  topReasons: ReasonTally[];
  top: FlaggedRequest[];
  /** Time spent scoring (parsing excluded) and the rate it gives. */
  scoringMs: number;
  scoredPerSecond: number;
  output: string | null;
}

export async function runScore(inputs: string[], flags: ScoreFlags, io: Io): Promise<number> {
  const train = flags.train ?? [];
  if (flags.profile === undefined && train.length === 0)
    throw new CliError('give --profile FILE, or --train INPUTS to learn one (see apiwarden score --help)', 2);
  if (flags.follow) throw new CliError('score reads inputs to their end; --follow is not supported', 2);
  const minScore = flags.minScore ?? 0.5;
  const bodies = flags.bodies !== false;
  const readFlags: ParseFlags = {
    ...flags,
    out: undefined,
    quarantine: flags.quarantine ?? 'none',
    captureBodies: bodies,
    captureHeaders: false,
    ...(bodies ? { maxBodyBytes: flags.maxBodyBytes ?? 65_536 } : {}),
  };

  let profile: ParamProfile;
  let training: ParseSummary | null = null;
  let source: 'trained' | 'file' = 'file';
  let saved: string | null = null;
  const reuse = flags.profile !== undefined && (train.length === 0 || (await exists(flags.profile)));
  if (reuse) {
    profile = await loadProfile(flags.profile!);
    if (train.length > 0 && !flags.quiet)
      io.stderr.write(
        `using the existing profile ${flags.profile}; --train ignored (delete it to learn again)\n`,
      );
  } else {
    if (train.includes('-')) throw new CliError('--train reads files, not stdin', 2);
    const profiler = new ParamProfiler();
    training = await parseInputs(train, { ...readFlags, quarantine: 'none' }, io, new TrainSink(profiler));
    profile = profiler.finish();
    source = 'trained';
  }
  const writeTo = flags.saveProfile ?? (source === 'trained' ? flags.profile : undefined);
  if (writeTo !== undefined) {
    await writeFile(writeTo, `${JSON.stringify(profile.toJSON())}\n`).catch((e: Error) => {
      throw new CliError(`cannot write the profile to '${writeTo}': ${e.message}`);
    });
    saved = writeTo;
  }

  const scoreNothing = inputs.length === 0 && saved !== null && source === 'trained';
  let parse: ParseSummary | null = null;
  let sink: ScoreSink | null = null;
  if (!scoreNothing) {
    if (flags.out === '' || (flags.out === '-' && flags.json))
      throw new CliError(
        flags.out === '' ? '--out needs a file name' : '--json prints on stdout: give --out a file',
        2,
      );
    const target = flags.out === undefined ? null : flags.out === '-' ? io.stdout : flags.out;
    sink = new ScoreSink(new ParamScorer(profile), minScore, flags.top ?? 10, target);
    parse = await parseInputs(inputs, readFlags, io, sink);
  }

  const endpoints = profile.endpoints.size;
  const topReasons =
    sink === null ? [] : [...sink.reasons.values()].sort((a, b) => b.count - a.count).slice(0, 10);
  const summary: ScoreSummary = {
    profile: {
      source,
      path: source === 'file' ? (flags.profile ?? null) : null,
      saved,
      requests: profile.requests,
      endpoints,
      from: profile.from,
      to: profile.to,
    },
    training,
    parse,
    scored: sink?.scored ?? 0,
    flagged: sink?.flagged ?? 0,
    minScore,
    unseen: sink?.unseen ?? 0,
    byCheck: sink?.byCheck ?? {},
    topReasons,
    top: sink?.top ?? [],
    scoringMs: Math.round(sink?.scoringMs ?? 0),
    scoredPerSecond:
      sink !== null && sink.scoringMs > 0 ? Math.round((sink.scored * 1000) / sink.scoringMs) : 0,
    output: flags.out ?? null,
  };
  if (flags.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else if (!flags.quiet) (flags.out === '-' ? io.stderr : io.stdout).write(scoreText(summary));
  if (!flags.json && !flags.quiet && parse !== null) io.stderr.write(humanSummary(parse));
  return 0;
}

function scoreText(s: ScoreSummary): string {
  const lines: string[] = [];
  const p = s.profile;
  const span = p.from !== null && p.to !== null ? `, ${p.from} .. ${p.to}` : '';
  lines.push(
    p.source === 'trained'
      ? `learned a profile of ${int(p.endpoints)} endpoints from ${int(p.requests)} requests${span}`
      : `profile ${p.path}: ${int(p.endpoints)} endpoints from ${int(p.requests)} requests${span}`,
  );
  if (p.saved !== null) lines.push(`  wrote ${p.saved}`);
  if (s.parse === null) return `${lines.join('\n')}\n`;
  lines.push(
    `scored ${int(s.scored)} requests (${rate(s.scoredPerSecond)}/s scoring, ${duration(s.scoringMs)}): ${int(s.flagged)} flagged ${s.minScore > 0 ? `at score >= ${s.minScore}` : 'with any finding'}; ${int(s.unseen)} on endpoints the profile does not have`,
  );
  const checks = Object.entries(s.byCheck).sort((a, b) => b[1] - a[1]);
  if (checks.length > 0)
    lines.push(`  findings in flagged requests: ${checks.map(([c, n]) => `${c} ${int(n)}`).join(', ')}`);
  if (s.topReasons.length > 0) {
    lines.push('', 'top reasons (flagged requests):');
    const w = Math.max(...s.topReasons.map((r) => r.count)).toLocaleString('en-US').length;
    for (const r of s.topReasons)
      lines.push(
        `  ${int(r.count).padStart(w)}  ${r.check.padEnd(13)} ${terminalSafe(r.param)}  ${terminalSafe(r.endpoint)}`,
      );
  }
  if (s.top.length > 0) {
    lines.push('', 'highest scores:');
    for (const t of s.top)
      lines.push(
        `  ${t.score.toFixed(3)}  line ${t.line}  ${terminalSafe(t.endpoint)}  ${terminalSafe(t.reason)}`,
      );
  }
  if (s.output !== null && s.output !== '-') lines.push('', `wrote ${s.output}`);
  return `${lines.join('\n')}\n`;
}
