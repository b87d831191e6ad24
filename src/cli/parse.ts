/** `apiwarden parse`: normalize any supported input into events (JSON lines or Parquet). */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { loadConfig } from '../config/load.js';
import { type Config, defaultConfig } from '../config/schema.js';
import { secretScrubber } from '../core/identity.js';
import { parseCidr } from '../core/net.js';
import { Normalizer } from '../core/normalize.js';
import type { EventOptions } from '../core/options.js';
import { checkRules } from '../detect/detectors/rules.js';
import { buildParser, detectFormat } from '../parsers/registry.js';
import { type IngestStats, ingest } from '../pipeline/ingest.js';
import { Quarantine } from '../pipeline/quarantine.js';
import { type Sniffed, sniffFile, sniffStream } from '../pipeline/sniff.js';
import { JsonlSink } from '../sinks/jsonl.js';
import { ParquetSink } from '../sinks/parquet.js';
import { type EventSink, NullSink } from '../sinks/types.js';
import { expandInputs } from '../sources/expand.js';
import { openSource } from '../sources/index.js';
import { bytes, duration, int, iso, rate } from './human.js';
import { Progress } from './progress.js';

export interface Io {
  stdout: Writable;
  stderr: NodeJS.WriteStream | Writable;
  stdin: Readable;
  /** Aborts follow mode (SIGINT in the real CLI). */
  signal?: AbortSignal;
}

export interface ParseFlags {
  format?: string;
  logFormat?: string;
  config?: string;
  out?: string;
  follow?: boolean;
  quarantine?: string;
  maxQuarantine?: number;
  quiet?: boolean;
  json?: boolean;
  progress?: boolean;
  trustedProxies?: string;
  deviceHeader?: string;
  captureHeaders?: boolean;
  captureBodies?: boolean;
  maxBodyBytes?: number;
  maxLineBytes?: number;
}

/** A user-facing failure: one line, a non-zero exit code (2 for usage, 1 for input). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/**
 * The configuration a command runs with: the file given with `-c/--config` (its problems are a usage error,
 * exit 2, naming the field and the fix), or the defaults. With `rules`, the detection rules are checked too
 * (the commands that detect).
 */
export async function cliConfig(path: string | undefined, o: { rules?: boolean } = {}): Promise<Config> {
  let config = defaultConfig();
  if (path !== undefined) {
    const c = await loadConfig(path);
    if (!c.ok) throw new CliError(c.error.join('\n'), 2);
    config = c.value;
  }
  if (o.rules === true) {
    const problems = checkRules(config.detection.rules);
    if (problems.length > 0) throw new CliError(`${path}: ${problems.join('\n')}`, 2);
  }
  return config;
}

/**
 * A file named by a flag, as text; a clear error when it cannot be read (`what`: the flag, `--profile`;
 * `missing`: what to add to "no such file", such as how to make one).
 */
export async function readFlagFile(path: string, what: string, missing = ''): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CliError(
      `cannot read ${what} '${path}': ${err.code === 'ENOENT' ? `no such file${missing}` : err.message}`,
    );
  }
}

export interface ParseSummary {
  format: string;
  detected: boolean;
  confidence: number | null;
  inputs: string[];
  records: number;
  events: number;
  blank: number;
  malformed: number;
  malformedByReason: Record<string, number>;
  quarantine: { path: string | null; kept: number };
  firstEvent: string | null;
  lastEvent: string | null;
  bytesRead: number;
  elapsedMs: number;
  linesPerSecond: number;
  output: string | null;
}

async function resolveConfig(flags: ParseFlags): Promise<Config> {
  const base = flags.config ? await loadConfig(flags.config) : { ok: true as const, value: defaultConfig() };
  if (!base.ok) throw new CliError(base.error.join('\n'), 2);
  const c = base.value;
  if (flags.format) c.input.format = flags.format;
  if (flags.logFormat) c.input.logFormat = flags.logFormat;
  if (flags.follow) c.input.follow = true;
  if (flags.maxLineBytes !== undefined) c.input.maxLineBytes = flags.maxLineBytes;
  if (flags.trustedProxies !== undefined) {
    const list =
      flags.trustedProxies === '' || flags.trustedProxies === 'none'
        ? []
        : flags.trustedProxies.split(',').map((s) => s.trim());
    const bad = list.find((s) => parseCidr(s) === null);
    if (bad !== undefined)
      throw new CliError(`--trusted-proxies: '${bad}' is not an IP address or CIDR (e.g. 10.0.0.0/8)`, 2);
    c.events.trustedProxies = list;
  }
  if (flags.deviceHeader) c.events.deviceHeader = flags.deviceHeader.toLowerCase();
  if (flags.captureHeaders) c.events.captureHeaders = true;
  if (flags.captureBodies) c.events.captureBodies = true;
  if (flags.maxBodyBytes !== undefined) c.events.maxBodyBytes = flags.maxBodyBytes;
  if (flags.maxQuarantine !== undefined) c.quarantine.maxRecords = flags.maxQuarantine;
  return c;
}

type OutKind = 'none' | 'stdout' | 'jsonl' | 'parquet';

/** Output by file extension: `.parquet`, `.jsonl`/`.ndjson`/`.json`, `-` for stdout; none = count only. */
function outKind(out: string | undefined): OutKind {
  if (out === undefined) return 'none';
  if (out === '-') return 'stdout';
  const ext = extname(out).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw new CliError(
    `--out '${out}': unknown output type '${ext || '(none)'}'; use a .jsonl or .parquet file name, or - for stdout`,
    2,
  );
}

function openSink(out: string | undefined, io: Io): EventSink {
  const kind = outKind(out);
  if (kind === 'stdout') return new JsonlSink(io.stdout);
  if (kind === 'parquet') return new ParquetSink(out!);
  if (kind === 'jsonl') return new JsonlSink(out!);
  return new NullSink();
}

function quarantinePath(flags: ParseFlags, c: Config): string | null {
  if (flags.quarantine === 'none') return null;
  if (flags.quarantine) return flags.quarantine;
  if (c.quarantine.path) return c.quarantine.path;
  if (flags.out && flags.out !== '-') return `${flags.out}.quarantine.jsonl`;
  return 'apiwarden-quarantine.jsonl';
}

/** Parses inputs into a sink (given, or opened from `--out`) and returns the run's summary. */
export async function parseInputs(
  inputs: string[],
  flags: ParseFlags,
  io: Io,
  sinkOverride?: EventSink,
): Promise<ParseSummary> {
  const config = await resolveConfig(flags);
  outKind(flags.out); // usage errors before any I/O
  const args = inputs.length === 0 ? ['-'] : inputs;
  const useStdin = args.includes('-');
  if (useStdin && args.length > 1) throw new CliError("'-' (stdin) cannot be mixed with other inputs", 2);
  if (useStdin && config.input.follow) throw new CliError('--follow needs files, not stdin', 2);

  // Detect the format from the first bytes of the first input, unless it was given.
  let stdin = io.stdin;
  let format = config.input.format;
  let confidence: number | null = null;
  const detected = format === 'auto';
  if (detected) {
    let sniffed: Sniffed;
    if (useStdin) {
      const s = await sniffStream(io.stdin);
      sniffed = s.sniffed;
      stdin = s.stream;
    } else {
      const files = await expandInputs(args, { allowMissing: config.input.follow });
      if (!files.ok) throw new CliError(files.error);
      if (files.files.length === 0) throw new CliError('no input files');
      const first = files.files[0]!;
      sniffed = await sniffFile(first).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' && config.input.follow) {
          throw new CliError(
            `cannot detect the format of '${first}': it does not exist yet; pass --format`,
            2,
          );
        }
        throw new CliError(`cannot read '${first}': ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
      });
    }
    if (sniffed.text.length === 0) {
      format = 'combined'; // an empty input parses to nothing in any format
    } else {
      const d = detectFormat(sniffed.text, sniffed.truncated);
      if (!d.ok) throw new CliError(d.error);
      format = d.value.format;
      confidence = d.value.confidence;
    }
  }

  const eventOptions: EventOptions = { ...config.events };
  const normalizer = new Normalizer(eventOptions);
  const built = buildParser(format, {
    normalizer,
    ...(config.input.logFormat ? { logFormat: config.input.logFormat } : {}),
    ...(config.input.jsonMapping ? { jsonMapping: config.input.jsonMapping } : {}),
  });
  if (!built.ok) throw new CliError(built.error, 2);

  const opened = await openSource(args, {
    follow: config.input.follow,
    pollMs: config.input.pollMs,
    startAt: config.input.startAt,
    stdin,
  });
  if (!opened.ok) throw new CliError(opened.error);
  const source = opened.source;

  const sink = sinkOverride ?? openSink(flags.out, io);
  const qPath = quarantinePath(flags, config);
  const quarantine = new Quarantine({
    path: qPath,
    maxRecords: config.quarantine.maxRecords,
    sampleChars: config.quarantine.sampleChars,
    scrub: secretScrubber([...eventOptions.credentialQueryKeys, ...eventOptions.credentialCookies]),
  });
  const stderr = io.stderr as NodeJS.WriteStream;
  const showProgress = flags.progress !== false && !flags.quiet && stderr.isTTY === true;
  const progress = new Progress(
    config.input.follow ? 'following' : 'parsing',
    await source.totalBytes(),
    stderr,
    showProgress,
  );

  let stats: IngestStats;
  try {
    stats = await ingest({
      source,
      parser: built.parser,
      read: {
        maxLineBytes: config.input.maxLineBytes,
        maxDocumentBytes: config.input.maxDocumentBytes,
        sampleChars: config.quarantine.sampleChars,
        ...(io.signal ? { signal: io.signal } : {}),
      },
      sink,
      quarantine,
      onBatch: (s) => progress.update(s),
    });
  } finally {
    progress.done();
    await quarantine.close();
  }
  await sink.close();

  const summary: ParseSummary = {
    format,
    detected,
    confidence,
    inputs: stats.inputs,
    records: stats.records,
    events: stats.events,
    blank: stats.blank,
    malformed: stats.malformed,
    malformedByReason: Object.fromEntries(quarantine.byReason().map((r) => [r.reason, r.count])),
    quarantine: { path: quarantine.kept > 0 ? qPath : null, kept: quarantine.kept },
    firstEvent: stats.firstTs === null ? null : new Date(stats.firstTs).toISOString(),
    lastEvent: stats.lastTs === null ? null : new Date(stats.lastTs).toISOString(),
    bytesRead: stats.bytesRead,
    elapsedMs: Math.round(stats.elapsedMs),
    linesPerSecond: stats.elapsedMs > 0 ? Math.round((stats.records * 1000) / stats.elapsedMs) : 0,
    output: flags.out ?? null,
  };
  return summary;
}

export async function runParse(inputs: string[], flags: ParseFlags, io: Io): Promise<number> {
  const summary = await parseInputs(inputs, flags, io);
  if (flags.json) {
    // Machine-readable summary on stdout, unless stdout carries the events.
    const target = flags.out === '-' ? io.stderr : io.stdout;
    target.write(`${JSON.stringify(summary)}\n`);
  } else if (!flags.quiet) {
    io.stderr.write(humanSummary(summary));
  }
  return 0;
}

export function humanSummary(s: ParseSummary): string {
  const lines: string[] = [];
  const n = s.inputs.length;
  lines.push(
    `parsed ${int(s.records)} records from ${n} input${n === 1 ? '' : 's'} (${bytes(s.bytesRead)}) in ${duration(s.elapsedMs)}, ${rate(s.linesPerSecond)} lines/s`,
  );
  lines.push(
    `  format     ${s.format}${s.detected ? ` (auto-detected, ${Math.round((s.confidence ?? 0) * 100)}% of sample lines)` : ''}`,
  );
  const span =
    s.firstEvent && s.lastEvent
      ? `  ${iso(Date.parse(s.firstEvent))} .. ${iso(Date.parse(s.lastEvent))}`
      : '';
  lines.push(`  events     ${int(s.events)}${span}`);
  if (s.blank > 0) lines.push(`  blank      ${int(s.blank)} (skipped)`);
  if (s.malformed > 0) {
    const reasons = Object.entries(s.malformedByReason)
      .map(([r, c]) => `${r} ${int(c)}`)
      .join(', ');
    const kept = s.quarantine.path ? `; first ${int(s.quarantine.kept)} kept in ${s.quarantine.path}` : '';
    lines.push(`  malformed  ${int(s.malformed)} skipped (${reasons})${kept}`);
  } else {
    lines.push('  malformed  0');
  }
  if (s.output) lines.push(`  output     ${s.output === '-' ? 'stdout' : s.output}`);
  return `${lines.join('\n')}\n`;
}
