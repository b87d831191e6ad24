/**
 * Live mode in one process, and memory per actor. Run: `npm run bench:follow [-- --rounds N --actors A]`.
 *
 * - Latency: `apiwarden run --follow access.log --segment 1s` (a child process) with a profile learned from
 *   simulated traffic (combined format). Each round appends a scanner burst from a new address (400 requests
 *   to missing paths, timestamped now) to the followed file; the latency is from the append returning to the
 *   incident naming that address printed on stdout (judged and stored in the state first). p50 / p99.
 * - Memory: a DetectionRun (the detection code every mode runs) fed `--actors` events (default 1,000,000),
 *   each from a distinct address, one per millisecond; heap and RSS measured after a forced GC before and
 *   after. Bytes per tracked actor = heap growth / actors.
 * Prints one JSON object. Needs `node --expose-gc` (the npm script passes it).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Normalizer } from '../src/core/normalize.js';
import { DetectionRun } from '../src/detect/run.js';
import { Enricher } from '../src/features/enrich.js';
import { buildParser } from '../src/parsers/registry.js';
import type { LineParser } from '../src/parsers/types.js';
import { readProfile } from '../src/profiling/profile.js';
import { arg } from './args.js';

const rounds = Number(arg('--rounds', '20'));
const actors = Number(arg('--actors', '1000000'));
const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'apiwarden.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:follow does)');

function run(args: string[]): void {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`apiwarden ${args[0]} failed (${r.status}): ${r.stderr}`);
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const clf = (ts: number) => {
  const d = new Date(ts);
  const m = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][
    d.getUTCMonth()
  ];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${m}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
};

const dir = await mkdtemp(join(tmpdir(), 'aw-bench-follow-'));
let child: ChildProcess | null = null;
try {
  const sim = join(dir, 'sim');
  run([
    'simulate',
    '--out',
    sim,
    '--users',
    '1500',
    '--hours',
    '6',
    '--seed',
    '1',
    '--formats',
    'combined',
    '--quiet',
  ]);
  run(['analyze', join(sim, 'access.log'), '--out', join(dir, 'learned'), '--quiet']);
  const profilePath = join(dir, 'learned', 'profile.json');

  // Latency.
  const followed = join(dir, 'access.log');
  await writeFile(followed, '');
  child = spawn(
    process.execPath,
    [
      cli,
      'run',
      '--follow',
      followed,
      '--format',
      'combined',
      '--profile',
      profilePath,
      '--segment',
      '1s',
      '--state',
      join(dir, 'state'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  await sleep(2000);
  const latencies: number[] = [];
  let missed = 0;
  for (let r = 0; r < rounds; r++) {
    const ip = `198.51.100.${r + 1}`;
    const now = Date.now();
    const burst: string[] = [];
    for (let i = 0; i < 400; i++)
      burst.push(
        `${ip} - - [${clf(now)}] "GET /wp-admin/probe-${r}-${i}.php HTTP/1.1" 404 153 "-" "sqlmap/1.7"`,
      );
    await appendFile(followed, `${burst.join('\n')}\n`);
    const t = performance.now();
    const deadline = t + 15_000;
    while (!out.includes(`"${ip}"`) && performance.now() < deadline) await sleep(10);
    if (out.includes(`"${ip}"`)) latencies.push(Math.round(performance.now() - t));
    else missed++;
    await sleep(500);
  }
  child.kill('SIGINT');
  if (latencies.length === 0)
    throw new Error(`no incident for any burst; run --follow said:\n${err.slice(-2000)}`);

  // Memory per tracked actor.
  const profile = readProfile(await readFile(profilePath, 'utf8'));
  if (!profile.ok) throw new Error(profile.error);
  const built = buildParser('combined', { normalizer: new Normalizer() });
  if (!built.ok) throw new Error(built.error);
  const parser = built.parser as LineParser;
  const enricher = new Enricher(null);
  const detection = new DetectionRun(profile.value);
  gc();
  const before = process.memoryUsage();
  const t0 = Date.UTC(2026, 2, 2);
  const t1 = performance.now();
  for (let i = 0; i < actors; i++) {
    const ip = `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
    const e = parser.parseLine(
      `${ip} - - [${clf(t0 + i)}] "GET /products/${i % 5000} HTTP/1.1" 200 1234 "-" "Mozilla/5.0"`,
      { source: 'bench', line: i + 1 },
    );
    if (!('ts' in e)) throw new Error('synthetic line did not parse');
    e.ts = t0 + i;
    detection.push(enricher.enrich(e));
  }
  const pushSec = (performance.now() - t1) / 1000;
  gc();
  const after = process.memoryUsage();
  const tracked = detection.stats().actors.ip;
  console.log(
    JSON.stringify({
      bench: 'follow',
      machine: '2 cores, shared',
      latencyMs: {
        definition:
          'append of a 400-request scanner burst -> its incident printed by apiwarden run --follow --segment 1s (stored first)',
        rounds,
        missed,
        p50: pct(latencies, 50),
        p99: pct(latencies, 99),
        max: Math.max(...latencies),
      },
      memory: {
        actors: tracked,
        eventsPerSec: Math.round(actors / pushSec),
        heapBytesPerActor: Math.round((after.heapUsed - before.heapUsed) / tracked),
        rssBytesPerActor: Math.round((after.rss - before.rss) / tracked),
        rssMB: Math.round(after.rss / 1048576),
        heapUsedMB: Math.round(after.heapUsed / 1048576),
      },
    }),
  );
} finally {
  if (child !== null && child.exitCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}
