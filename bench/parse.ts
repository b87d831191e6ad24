/**
 * Parse throughput benchmark. Run: `npm run bench:parse [-- --lines N --formats a,b --repeat R]`.
 *
 * The parent process only orchestrates: every measurement runs in its own child process (this file with
 * `--child <what>`), so each one starts from a fresh heap and its peak RSS is its own. Children print one
 * JSON object on stdout; the parent collects them and prints ONE JSON report on stdout. Progress goes to
 * stderr. See bench/README.md for what is measured and how to read the report.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Normalizer } from '../src/core/normalize.js';
import { isMalformed } from '../src/core/result.js';
import { albFormat } from '../src/parsers/alb.js';
import {
  apisixFormat,
  cloudflareFormat,
  envoyFormat,
  kongFormat,
  traefikFormat,
} from '../src/parsers/json/index.js';
import { combinedFormat } from '../src/parsers/logformat/index.js';
import type { FormatSpec, LineParser } from '../src/parsers/types.js';
import { ingest } from '../src/pipeline/ingest.js';
import { Quarantine } from '../src/pipeline/quarantine.js';
import { NullSink } from '../src/sinks/types.js';
import { openSource } from '../src/sources/index.js';
import {
  flatten,
  GEN_FORMATS,
  type GenFormat,
  generateBatches,
  isGenFormat,
  writeLinesToFile,
} from './gen.js';

const SPECS: Record<GenFormat, FormatSpec> = {
  combined: combinedFormat,
  apisix: apisixFormat,
  kong: kongFormat,
  envoy: envoyFormat,
  traefik: traefikFormat,
  cloudflare: cloudflareFormat,
  alb: albFormat,
};

/** Parse-only targets in lines/s (one core). ALB has none set. */
const TARGETS: Record<GenFormat, number | null> = {
  combined: 1_000_000,
  apisix: 300_000,
  kong: 300_000,
  envoy: 300_000,
  traefik: 300_000,
  cloudflare: 300_000,
  alb: null,
};

const SELF = fileURLToPath(import.meta.url);
/** Repository root: dist/bench/parse.js → ../.. */
const ROOT = resolve(dirname(SELF), '..', '..');
/** Children get room for 1M+ lines of ~1 KB held as strings. */
const CHILD_HEAP_MB = 8192;
/** The same read limits as the CLI defaults (src/config/schema.ts). */
const READ = { maxLineBytes: 1 << 20, maxDocumentBytes: 256 << 20, sampleChars: 2048 };

interface Flags {
  lines: number;
  formats: GenFormat[];
  repeat: number;
  seed: number;
  e2e: boolean;
  child: string | null;
}

const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

function usage(): string {
  return `usage: node dist/bench/parse.js [--lines N] [--formats ${GEN_FORMATS.join(',')}] [--repeat R] [--seed S] [--no-e2e]

  --lines N      lines generated per format (default 1000000; 20000 is a smoke run of a few seconds)
  --formats a,b  formats to time parse-only (default: all of ${GEN_FORMATS.join(', ')})
  --repeat R     timed passes per measurement, the best is reported (default 3; a warm-up pass comes first)
  --seed S       generator seed (default 1)
  --no-e2e       skip the end-to-end comparison with GoAccess on the combined file
`;
}

function parseFlags(argv: string[]): Flags {
  const f: Flags = {
    lines: 1_000_000,
    formats: [...GEN_FORMATS],
    repeat: 3,
    seed: 1,
    e2e: true,
    child: null,
  };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v?.replace(/_/g, ''));
    if (v === undefined || !Number.isInteger(n) || n < min) {
      throw new Error(`${name} expects an integer >= ${min}, got '${v ?? ''}'\n${usage()}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq === -1 ? a : a.slice(0, eq);
    const value = (): string | undefined => (eq === -1 ? argv[++i] : a.slice(eq + 1));
    switch (name) {
      case '--lines':
        f.lines = int('--lines', value(), 1);
        break;
      case '--repeat':
        f.repeat = int('--repeat', value(), 1);
        break;
      case '--seed':
        f.seed = int('--seed', value(), 0);
        break;
      case '--formats': {
        const list = (value() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const bad = list.find((s) => !isGenFormat(s));
        if (bad !== undefined || list.length === 0) {
          throw new Error(`--formats: unknown format '${bad ?? ''}' (known: ${GEN_FORMATS.join(', ')})`);
        }
        f.formats = list as GenFormat[];
        break;
      }
      case '--no-e2e':
        f.e2e = false;
        break;
      case '--child':
        f.child = value() ?? null;
        break;
      case '-h':
      case '--help':
        process.stdout.write(usage());
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument '${a}'\n${usage()}`);
    }
  }
  return f;
}

const round = (n: number, digits = 0): number => {
  const m = 10 ** digits;
  return Math.round(n * m) / m;
};
const mib = (bytes: number): number => round(bytes / 1048576, 1);
/** Peak resident set size of this process so far (Linux reports KiB). */
const peakRssMiB = (): number => round(process.resourceUsage().maxRSS / 1024, 1);

// ---------------------------------------------------------------------------------------------------------
// Child: parse-only throughput of one format

export interface FormatResult {
  format: string;
  lines: number;
  bytes: number;
  avgLineBytes: number;
  generateSec: number;
  /** Seconds of each timed pass (the warm-up pass is not included). */
  passesSec: number[];
  bestSec: number;
  /** CPU time (user + system, all threads: includes GC helper threads) of the best pass. */
  cpuSec: number;
  linesPerSec: number;
  mbPerSec: number;
  /** RSS after generating the input (and a full GC), before parsing: mostly the input strings themselves. */
  rssBeforeParseMiB: number;
  /** Highest RSS sampled while parsing (warm-up and timed passes). */
  parseRssMiB: number;
  /** process.resourceUsage().maxRSS of the child: the high-water mark of the whole child, input included. */
  peakRssMiB: number;
  events: number;
  malformed: number;
  malformedByReason: Record<string, number>;
  /** The first malformed lines (reason, detail, start of the line), to debug a generator/parser mismatch. */
  malformedSamples: { line: number; reason: string; detail: string | null; text: string }[];
  /**
   * JSON formats: lines/s of bare `JSON.parse` over the same lines (best of the same number of passes) — the
   * ceiling for any JSON.parse-based parser; the gap to `linesPerSec` is field extraction + normalization.
   */
  jsonParseLinesPerSec: number | null;
  target: number | null;
  meetsTarget: boolean | null;
}

const JSON_FORMATS: ReadonlySet<GenFormat> = new Set(['apisix', 'kong', 'envoy', 'traefik', 'cloudflare']);

function jsonParseCeiling(lines: readonly string[], repeat: number): number {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let r = 0; r <= repeat; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i++) {
      const o = JSON.parse(lines[i]!) as Record<string, unknown>;
      if (o !== null) sink++;
    }
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r > 0 && sec < best) best = sec; // pass 0 warms up
  }
  if (sink === 0) log('no JSON object parsed');
  return Math.round(lines.length / best);
}

interface PassResult {
  sec: number;
  cpuSec: number;
  events: number;
  malformed: number;
  reasons: Map<string, number>;
  samples: FormatResult['malformedSamples'];
  checksum: number;
  /** Highest RSS sampled during the pass (every 64Ki lines), bytes. */
  peakRss: number;
}

function parsePass(spec: FormatSpec, lines: readonly string[]): PassResult {
  // A fresh parser and Normalizer per pass: each pass is a whole run (identity cache starts empty).
  const parser = spec.create({ normalizer: new Normalizer() }) as LineParser;
  const reasons = new Map<string, number>();
  const samples: FormatResult['malformedSamples'] = [];
  let events = 0;
  let malformed = 0;
  let checksum = 0;
  let peakRss = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i++) {
    if ((i & 0xffff) === 0xffff) {
      // A cheap read of /proc/self/stat, 16 times per million lines.
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
    }
    const r = parser.parseLine(lines[i]!, { source: 'bench', line: i + 1 });
    if (isMalformed(r)) {
      malformed++;
      reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
      if (samples.length < 5) {
        samples.push({
          line: i + 1,
          reason: r.reason,
          detail: r.detail ?? null,
          text: lines[i]!.slice(0, 300),
        });
      }
    } else {
      events++;
      // Consume the event so nothing can be optimized away.
      checksum = (checksum + r.status + r.path.length) | 0;
    }
  }
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return {
    sec,
    cpuSec: (cpu.user + cpu.system) / 1e6,
    events,
    malformed,
    reasons,
    samples,
    checksum,
    peakRss,
  };
}

/** Full GC when the child runs with --expose-gc (it does when the parent starts it). */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * The lines of `format`, as `generateLines` makes them, with a full GC every 256Ki lines so that the garbage
 * of generating does not set the child's peak RSS: the peak should be the input plus what parsing needs.
 */
function generateInMemory(format: GenFormat, f: Flags): string[] {
  const out: string[] = [];
  for (const batch of generateBatches(format, f.lines, f.seed, 512)) {
    const flat = flatten(batch);
    for (let i = 0; i < flat.length; i++) out.push(flat[i]!);
    if ((out.length & 0x3ffff) < flat.length) collectGarbage();
  }
  return out;
}

function childFormat(format: GenFormat, f: Flags): FormatResult {
  const spec = SPECS[format];
  const g0 = performance.now();
  const lines = generateInMemory(format, f);
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) bytes += Buffer.byteLength(lines[i]!) + 1;
  const generateSec = (performance.now() - g0) / 1000;
  collectGarbage();
  const rssBefore = mib(process.memoryUsage.rss());
  log(`${format}: ${lines.length} lines (${mib(bytes)} MiB) generated in ${generateSec.toFixed(1)}s`);

  const warm = parsePass(spec, lines); // warm-up: JIT, inline caches
  const passes: PassResult[] = [];
  for (let r = 0; r < f.repeat; r++) {
    const p = parsePass(spec, lines);
    passes.push(p);
    log(
      `${format}: pass ${r + 1}/${f.repeat} ${p.sec.toFixed(3)}s = ${Math.round(lines.length / p.sec)} lines/s`,
    );
  }
  const best = passes.reduce((a, b) => (b.sec < a.sec ? b : a));
  const last = passes[passes.length - 1]!;
  const linesPerSec = Math.round(lines.length / best.sec);
  const target = TARGETS[format];
  const jsonParseLinesPerSec = JSON_FORMATS.has(format) ? jsonParseCeiling(lines, f.repeat) : null;
  return {
    format,
    lines: lines.length,
    bytes,
    avgLineBytes: Math.round(bytes / lines.length),
    generateSec: round(generateSec, 2),
    passesSec: passes.map((p) => round(p.sec, 4)),
    bestSec: round(best.sec, 4),
    cpuSec: round(best.cpuSec, 3),
    linesPerSec,
    mbPerSec: round(bytes / 1e6 / best.sec, 1),
    rssBeforeParseMiB: rssBefore,
    parseRssMiB: mib(Math.max(warm.peakRss, ...passes.map((p) => p.peakRss))),
    peakRssMiB: peakRssMiB(),
    events: last.events,
    malformed: last.malformed,
    malformedByReason: Object.fromEntries(last.reasons),
    malformedSamples: last.samples,
    jsonParseLinesPerSec,
    target,
    meetsTarget: target === null ? null : linesPerSec >= target,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Child: end to end on a combined file, apiwarden vs GoAccess

interface RunTiming {
  bestSec: number;
  passesSec: number[];
  linesPerSec: number;
  mbPerSec: number;
  peakRssMiB: number | null;
}

interface E2EResult {
  file: { lines: number; bytes: number };
  apiwarden: (RunTiming & { what: string; events: number; malformed: number }) | { error: string };
  apiwardenCli: (RunTiming & { what: string; command: string; events: number; malformed: number }) | null;
  goaccess:
    | (RunTiming & {
        what: string;
        version: string;
        command: string;
        validRequests: number | null;
        failedRequests: number | null;
      })
    | null;
  goaccessReason?: string;
  ratio: number | null;
  ratioCli: number | null;
}

const TIME_BIN = '/usr/bin/time';

/** Runs a command, timing its wall clock; with /usr/bin/time also its peak RSS. */
function timedRun(
  cmd: string,
  args: string[],
  cwd: string,
): { sec: number; status: number | null; stdout: string; stderr: string; maxRssMiB: number | null } {
  const useTime = existsSync(TIME_BIN);
  const t0 = process.hrtime.bigint();
  const r = useTime
    ? spawnSync(TIME_BIN, ['-f', 'APIWARDEN_BENCH_MAXRSS_KB=%M', cmd, ...args], {
        cwd,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      })
    : spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  let stderr = r.stderr ?? '';
  let maxRssMiB: number | null = null;
  const m = /APIWARDEN_BENCH_MAXRSS_KB=(\d+)\s*$/.exec(stderr);
  if (m !== null) {
    maxRssMiB = round(Number(m[1]) / 1024, 1);
    stderr = stderr.slice(0, m.index);
  }
  if (r.error) throw r.error;
  return { sec, status: r.status, stdout: r.stdout ?? '', stderr, maxRssMiB };
}

function timing(lines: number, bytes: number, secs: number[], rss: number | null): RunTiming {
  const best = Math.min(...secs);
  return {
    bestSec: round(best, 4),
    passesSec: secs.map((s) => round(s, 4)),
    linesPerSec: Math.round(lines / best),
    mbPerSec: round(bytes / 1e6 / best, 1),
    peakRssMiB: rss,
  };
}

function goaccessVersion(): string | null {
  const r = spawnSync('goaccess', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /GoAccess - ([\d.]+)/.exec(r.stdout);
  return m ? m[1]!.replace(/\.$/, '') : r.stdout.split('\n')[0]!.trim();
}

async function childE2E(f: Flags): Promise<E2EResult> {
  const dir = mkdtempSync(join(tmpdir(), 'apiwarden-bench-'));
  try {
    const file = join(dir, 'access.log');
    // Same format, count and seed as the parse-only `combined` run: the same data.
    const bytes = await writeLinesToFile(file, 'combined', f.lines, f.seed);
    const lines = f.lines;
    log(`e2e: wrote ${lines} combined lines (${mib(bytes)} MiB) to ${file}`);

    // apiwarden in-process: the `apiwarden parse <file>` path (read, frame, parse, count) into a NullSink.
    let apiwarden: E2EResult['apiwarden'];
    try {
      const secs: number[] = [];
      let events = 0;
      let malformed = 0;
      for (let r = 0; r <= f.repeat; r++) {
        const opened = await openSource([file]);
        if (!opened.ok) throw new Error(opened.error);
        const quarantine = new Quarantine({
          path: null,
          maxRecords: 1000,
          sampleChars: 2048,
          scrub: (s) => s,
        });
        const t0 = process.hrtime.bigint();
        const stats = await ingest({
          source: opened.source,
          parser: combinedFormat.create({ normalizer: new Normalizer() }),
          read: READ,
          sink: new NullSink(),
          quarantine,
        });
        const sec = Number(process.hrtime.bigint() - t0) / 1e9;
        await quarantine.close();
        events = stats.events;
        malformed = stats.malformed;
        if (r > 0) secs.push(sec); // pass 0 warms up
        log(`e2e: apiwarden ingest ${r === 0 ? 'warm-up' : `pass ${r}/${f.repeat}`} ${sec.toFixed(3)}s`);
      }
      apiwarden = {
        what: 'in-process ingest(): FileSource read + line framing + combined parser + Normalizer → NullSink',
        ...timing(lines, bytes, secs, peakRssMiB()),
        events,
        malformed,
      };
    } catch (e) {
      apiwarden = { error: (e as Error).message };
    }

    // apiwarden CLI: what a user runs, including Node start-up and format detection.
    let apiwardenCli: E2EResult['apiwardenCli'] = null;
    const bin = join(ROOT, 'bin', 'apiwarden.js');
    if (existsSync(bin)) {
      const args = [bin, 'parse', file, '--quiet', '--json', '--quarantine', 'none'];
      const secs: number[] = [];
      let rss: number | null = null;
      let summary: { events?: number; malformed?: number } = {};
      let failed: string | null = null;
      for (let r = 0; r < f.repeat; r++) {
        const run = timedRun(process.execPath, args, dir);
        if (run.status !== 0) {
          failed = `exit ${run.status}: ${run.stderr.trim().slice(0, 300)}`;
          break;
        }
        secs.push(run.sec);
        rss = Math.max(rss ?? 0, run.maxRssMiB ?? 0) || null;
        try {
          summary = JSON.parse(run.stdout.trim().split('\n').pop()!) as typeof summary;
        } catch {
          failed = `unreadable summary: ${run.stdout.slice(0, 200)}`;
          break;
        }
        log(`e2e: apiwarden CLI pass ${r + 1}/${f.repeat} ${run.sec.toFixed(3)}s`);
      }
      if (failed === null) {
        apiwardenCli = {
          what: 'wall time of the CLI process: node start-up, format detection, read, frame, parse, count',
          command: `node bin/apiwarden.js parse <file> --quiet --json --quarantine none`,
          ...timing(lines, bytes, secs, rss),
          events: summary.events ?? -1,
          malformed: summary.malformed ?? -1,
        };
      } else {
        log(`e2e: apiwarden CLI failed: ${failed}`);
      }
    }

    // GoAccess.
    let goaccess: E2EResult['goaccess'] = null;
    let goaccessReason: string | undefined;
    const version = goaccessVersion();
    if (version === null) {
      goaccessReason = 'goaccess is not installed (on Debian/Ubuntu: apt-get install goaccess)';
    } else {
      const out = join(dir, 'goaccess.json');
      const args = [
        file,
        '--log-format=COMBINED',
        '-o',
        out,
        '--no-global-config',
        '--no-progress',
        '--no-parsing-spinner',
      ];
      const secs: number[] = [];
      let rss: number | null = null;
      for (let r = 0; r <= f.repeat; r++) {
        rmSync(out, { force: true });
        const run = timedRun('goaccess', args, dir);
        if (run.status !== 0 || !existsSync(out)) {
          goaccessReason = `goaccess failed (exit ${run.status}): ${run.stderr.trim().slice(0, 300)}`;
          break;
        }
        if (r > 0) secs.push(run.sec);
        rss = Math.max(rss ?? 0, run.maxRssMiB ?? 0) || null;
        log(`e2e: goaccess ${r === 0 ? 'warm-up' : `pass ${r}/${f.repeat}`} ${run.sec.toFixed(3)}s`);
      }
      if (goaccessReason === undefined) {
        let valid: number | null = null;
        let failed: number | null = null;
        try {
          const report = JSON.parse(readFileSync(out, 'utf8')) as {
            general?: { valid_requests?: number; failed_requests?: number };
          };
          valid = report.general?.valid_requests ?? null;
          failed = report.general?.failed_requests ?? null;
        } catch {
          // Timing stands even if the report is unreadable.
        }
        goaccess = {
          what: 'wall time of goaccess: read, parse, aggregate all panels, write the JSON report',
          version,
          command: `goaccess <file> ${args.slice(1).join(' ').replace(out, '<tmp>/goaccess.json')}`,
          ...timing(lines, bytes, secs, rss),
          validRequests: valid,
          failedRequests: failed,
        };
      }
    }

    const ours = 'linesPerSec' in apiwarden ? apiwarden.linesPerSec : null;
    return {
      file: { lines, bytes },
      apiwarden,
      apiwardenCli,
      goaccess,
      ...(goaccessReason === undefined ? {} : { goaccessReason }),
      ratio: goaccess !== null && ours !== null ? round(ours / goaccess.linesPerSec, 2) : null,
      ratioCli:
        goaccess !== null && apiwardenCli !== null
          ? round(apiwardenCli.linesPerSec / goaccess.linesPerSec, 2)
          : null,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parent

function runChild(what: string, f: Flags): Promise<unknown> {
  const args = [
    `--max-old-space-size=${CHILD_HEAP_MB}`,
    '--expose-gc',
    SELF,
    '--child',
    what,
    '--lines',
    String(f.lines),
    '--repeat',
    String(f.repeat),
    '--seed',
    String(f.seed),
  ];
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out += s;
    });
    child.on('error', (e) => resolvePromise({ error: e.message }));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        resolvePromise({ error: `child '${what}' failed (${signal ?? `exit ${code}`})` });
        return;
      }
      try {
        resolvePromise(JSON.parse(out));
      } catch {
        resolvePromise({ error: `child '${what}' printed no JSON: ${out.slice(0, 200)}` });
      }
    });
  });
}

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function parent(f: Flags): Promise<number> {
  const started = Date.now();
  const cpuList = cpus();
  const machine = {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    totalMemMiB: mib(Number(readMemTotal())),
  };
  log(
    `node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}; ${f.lines} lines per format, best of ${f.repeat}`,
  );

  const formats: Record<string, unknown> = {};
  let ok = true;
  for (const format of f.formats) {
    const r = (await runChild(format, f)) as Partial<FormatResult> & { error?: string };
    formats[format] = r;
    if (r.error !== undefined || r.malformed !== 0) ok = false;
    if (r.error === undefined) {
      const t = r.target == null ? '' : ` (target ${r.target}: ${r.meetsTarget ? 'met' : 'MISSED'})`;
      log(
        `${format}: ${r.linesPerSec} lines/s, ${r.mbPerSec} MB/s, peak RSS ${r.peakRssMiB} MiB, malformed ${r.malformed}${t}`,
      );
    } else {
      log(`${format}: ERROR ${r.error}`);
    }
  }

  let endToEnd: unknown = null;
  if (f.e2e) {
    endToEnd = await runChild('e2e', f);
    const e = endToEnd as Partial<E2EResult> & { error?: string };
    if (e.error !== undefined || (e.apiwarden !== undefined && 'error' in e.apiwarden)) ok = false;
    if (e.ratio != null) log(`e2e: apiwarden/goaccess lines/s = ${e.ratio}`);
  }

  const report = {
    benchmark: 'apiwarden parse throughput',
    date: new Date(started).toISOString(),
    commit: gitCommit(),
    machine,
    lines: f.lines,
    repeat: f.repeat,
    seed: f.seed,
    ok,
    formats,
    endToEnd,
    elapsedSec: round((Date.now() - started) / 1000, 1),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

function readMemTotal(): number {
  try {
    const m = /MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return 0;
}

async function main(): Promise<number> {
  let f: Flags;
  try {
    f = parseFlags(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  if (f.child === null) return parent(f);
  if (f.child === 'e2e') {
    process.stdout.write(`${JSON.stringify(await childE2E(f))}\n`);
    return 0;
  }
  if (!isGenFormat(f.child)) {
    process.stderr.write(`unknown child '${f.child}'\n`);
    return 2;
  }
  process.stdout.write(`${JSON.stringify(childFormat(f.child, f))}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 1;
  },
);
